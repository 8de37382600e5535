/** Markdown for bench results: one run as a table, and two runs side by side (`--compare`). */
import type { BenchResults, Figure, StatsJson, SuiteResult } from './schema.js';

/** Three significant digits, without exponents. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toPrecision(3);
}

const spread = (s: StatsJson) => `${num(s.min)}–${num(s.max)}`;

function params(f: Figure): string {
  return Object.entries(f.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function machineLine(r: BenchResults): string {
  const m = r.machine;
  const gpu = m.gpus.length ? m.gpus.map((g) => `${g.name} (driver ${g.driver}, ${g.memoryMiB} MiB)`).join(', ') : `none (${m.gpuNote ?? 'no GPU'})`;
  const v = m.versions;
  return (
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, load ${m.loadAverage ?? '?'} at start; GPU: ${gpu}\n` +
    `libav ${v.libav} (libavcodec ${v.libavcodec}), OpenCV ${v.opencv}, onnxruntime ${v.onnxruntime} (backends ${m.providers.backends.join(', ')}; CUDA library ${m.providers.cudaLibrary ? 'present' : 'absent'}), ffmpeg binary ${v.ffmpegBinary}`
  );
}

function skippedLines(suites: SuiteResult[]): string[] {
  const lines: string[] = [];
  for (const s of suites) {
    if (s.status === 'skipped') lines.push(`- **${s.suite}** skipped: ${s.reason}`);
    for (const part of s.skipped) {
      const p = part.params ? ` (${Object.entries(part.params).map(([k, v]) => `${k}=${v}`).join(' ')})` : '';
      lines.push(`- ${s.suite}: ${part.name}${p} skipped: ${part.reason}`);
    }
  }
  return lines;
}

export function markdownReport(r: BenchResults): string {
  const out: string[] = [];
  out.push(`## framesift bench ${r.tool.version}, ${r.createdAt}`, '', machineLine(r), '');
  out.push(`Runs: ${r.settings.runs} counted after a warm-up; figures are median and min–max; ratios are per run against the reference measured in the same run.`, '');
  out.push('| workload | codec | size | frames | fps | sha256 |', '|---|---|---|---|---|---|');
  for (const w of r.workloads) out.push(`| ${w.id} | ${w.codec} | ${w.width}x${w.height} | ${w.frames} | ${num(w.fps)} | ${w.sha256.slice(0, 12)} |`);
  out.push('');
  out.push('| suite | figure | workload | params | median | min–max | unit | reference | ref. median | ratio | ratio min–max |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const meanings = new Map<string, string>();
  for (const s of r.suites) {
    for (const f of s.figures) {
      if (f.ratio) meanings.set(`${s.suite}: ${f.name}`, f.ratio.meaning);
      out.push(
        `| ${s.suite} | ${f.name} | ${f.workload ?? ''} | ${params(f)} | ${num(f.value.median)} | ${spread(f.value)} | ${f.unit} | ${f.reference?.name ?? ''} | ${f.reference ? num(f.reference.value.median) : ''} | ${f.ratio ? num(f.ratio.median) : ''} | ${f.ratio ? spread(f.ratio) : ''} |`,
      );
    }
  }
  if (meanings.size) out.push('', 'Ratios:', ...[...meanings].map(([k, v]) => `- ${k}: ${v}`));
  const skipped = skippedLines(r.suites);
  if (skipped.length) out.push('', 'Skipped:', ...skipped);
  return out.join('\n') + '\n';
}

function key(suite: string, f: Figure): string {
  return `${suite}|${f.name}|${f.workload ?? ''}|${params(f)}`;
}

/** Two results side by side: B/A of the medians, and each run's own ratio to its reference. */
export function compareReport(a: BenchResults, b: BenchResults, names: [string, string] = ['A', 'B']): string {
  const [na, nb] = names;
  const out: string[] = [];
  out.push(`## framesift bench: ${na} vs ${nb}`, '', `**${na}**: ${machineLine(a).replace('\n', '; ')}`, '', `**${nb}**: ${machineLine(b).replace('\n', '; ')}`, '');
  const shaA = new Map(a.workloads.map((w) => [w.id, w.sha256]));
  const differing = b.workloads.filter((w) => shaA.has(w.id) && shaA.get(w.id) !== w.sha256).map((w) => w.id);
  if (differing.length) out.push(`Note: workloads with the same id but different content: ${differing.join(', ')}`, '');
  out.push(`| suite | figure | workload | params | unit | ${na} | ${nb} | ratio ${nb}/${na} | ${nb} speed vs ${na} | ${na} vs ref | ${nb} vs ref |`);
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const figuresB = new Map<string, Figure>();
  for (const s of b.suites) for (const f of s.figures) figuresB.set(key(s.suite, f), f);
  const seen = new Set<string>();
  const row = (suite: string, fa: Figure | undefined, fb: Figure | undefined) => {
    const f = (fa ?? fb)!;
    const ratio = fa && fb ? fb.value.median / fa.value.median : NaN;
    // Speed of B relative to A whatever the unit's direction (> 1: B is faster/better).
    const speed = f.better === 'higher' ? ratio : 1 / ratio;
    const cell = (x?: Figure) => (x ? `${num(x.value.median)} (${spread(x.value)})` : 'missing');
    out.push(
      `| ${suite} | ${f.name} | ${f.workload ?? ''} | ${params(f)} | ${f.unit} | ${cell(fa)} | ${cell(fb)} | ${num(ratio)} | ${num(speed)} | ${num(fa?.ratio?.median)} | ${num(fb?.ratio?.median)} |`,
    );
  };
  for (const s of a.suites) {
    for (const fa of s.figures) {
      const k = key(s.suite, fa);
      seen.add(k);
      row(s.suite, fa, figuresB.get(k));
    }
  }
  for (const s of b.suites) for (const fb of s.figures) if (!seen.has(key(s.suite, fb))) row(s.suite, undefined, fb);
  const skipped = [...skippedLines(a.suites).map((l) => `${l} (${na})`), ...skippedLines(b.suites).map((l) => `${l} (${nb})`)];
  if (skipped.length) out.push('', 'Skipped:', ...skipped);
  return out.join('\n') + '\n';
}
