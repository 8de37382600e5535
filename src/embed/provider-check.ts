/**
 * Which onnxruntime execution providers load on this machine (for `framesift doctor`): each
 * one gets a session over a one-node Identity model built here (no model file needed), and
 * its reason when it cannot load. Providers onnxruntime-node does not list for this platform,
 * and CUDA/TensorRT without their provider library, are reported without trying them (trying
 * only makes onnxruntime log the same failure).
 */
import { loadOnnxRuntime, providerLibraryInstalled, type OnnxRuntime } from './runtime.js';

export type CheckedProvider = 'cpu' | 'cuda' | 'tensorrt' | 'coreml';
export const CHECKED_PROVIDERS: readonly CheckedProvider[] = ['cpu', 'cuda', 'tensorrt', 'coreml'];

export interface ProviderState {
  provider: CheckedProvider;
  /** onnxruntime-node lists a backend of this name for this platform. */
  listed: boolean;
  loads: boolean;
  /** Why it does not load. */
  reason?: string;
}

// Protobuf wire format, only what the model below needs: varints and length-delimited fields.
function varint(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}
const int = (field: number, value: number) => [...varint(field << 3), ...varint(value)];
const bytes = (field: number, body: number[]) => [...varint((field << 3) | 2), ...varint(body.length), ...body];
const str = (field: number, text: string) => bytes(field, [...new TextEncoder().encode(text)]);

/** ValueInfoProto: a float tensor of shape [1]. */
function floatVector(name: string): number[] {
  const shape = bytes(2, bytes(1, int(1, 1))); // TensorShapeProto { dim { dim_value: 1 } }
  return [...str(1, name), ...bytes(2, bytes(1, [...int(1, 1), ...shape]))]; // TypeProto.tensor_type { elem_type: FLOAT }
}

/** ModelProto (IR 8, opset 13) with one Identity node: y = x. */
export function identityModel(): Uint8Array {
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')];
  const graph = [...bytes(1, node), ...str(2, 'identity'), ...bytes(11, floatVector('x')), ...bytes(12, floatVector('y'))];
  return Uint8Array.from([...int(1, 8), ...bytes(8, [...str(1, ''), ...int(2, 13)]), ...bytes(7, graph)]);
}

async function tryProvider(ort: OnnxRuntime, provider: CheckedProvider, listed: readonly string[]): Promise<ProviderState> {
  if (!listed.includes(provider)) {
    return { provider, listed: false, loads: false, reason: `onnxruntime-node ${ort.env.versions.node ?? ''} has no ${provider} backend on ${process.platform}-${process.arch}`.replace('  ', ' ') };
  }
  if ((provider === 'cuda' || provider === 'tensorrt') && !providerLibraryInstalled(provider)) {
    return {
      provider,
      listed: true,
      loads: false,
      reason: `libonnxruntime_providers_${provider}.so is not installed: onnxruntime-node was installed without its CUDA build (README "GPU servers")`,
    };
  }
  try {
    // Only this provider: onnxruntime would otherwise place the node on CPU and succeed.
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: [provider], logSeverityLevel: 4 });
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.of(0.5), [1]) });
    const y = (result.y?.data as Float32Array | undefined)?.[0];
    await session.release();
    if (y !== 0.5) return { provider, listed: true, loads: false, reason: `a test run returned ${y} instead of 0.5` };
    return { provider, listed: true, loads: true };
  } catch (err) {
    return { provider, listed: true, loads: false, reason: (err as Error).message.split('\n')[0] };
  }
}

/** Each provider's state; onnxruntime-node itself must load (else ERR_FRAMESIFT_ONNXRUNTIME_MISSING). */
export async function checkProviders(): Promise<{ version: string; backends: string[]; providers: ProviderState[] }> {
  const ort = await loadOnnxRuntime();
  const level = ort.env.logLevel;
  ort.env.logLevel = 'fatal'; // the failures are reported here, with their reason
  try {
    const backends = ort.listSupportedBackends().map((b) => b.name);
    const providers: ProviderState[] = [];
    for (const provider of CHECKED_PROVIDERS) providers.push(await tryProvider(ort, provider, backends));
    return { version: ort.env.versions.node ?? ort.env.versions.common ?? 'unknown', backends, providers };
  } finally {
    ort.env.logLevel = level;
  }
}
