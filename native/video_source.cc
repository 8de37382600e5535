// Video frame source over libavformat + libavcodec.
#include <cmath>
#include <deque>
#include <mutex>
#include <sys/stat.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
}

#include "decode_loop.h"
#include "decoder.h"
#include "errors.h"
#include "frame_convert.h"
#include "frame_schedule.h"
#include "libav_util.h"

namespace framesift {
namespace {

int RotationFromDisplayMatrix(const AVStream* stream) {
  size_t size = 0;
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (matrix == nullptr || size < 9 * sizeof(int32_t)) return 0;
  // av_display_rotation_get gives the counter-clockwise angle of the stored picture; showing
  // it upright takes the opposite turn (what ffmpeg's autorotate does).
  double angle = -av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(angle)) return 0;
  int degrees = static_cast<int>(std::lround(angle / 90.0)) * 90;
  return ((degrees % 360) + 360) % 360;
}

double Rational(AVRational r) { return r.den == 0 ? 0.0 : av_q2d(r); }

class VideoSource final : public FrameSource {
 public:
  explicit VideoSource(const DecoderOptions& options) : options_(options) {
    InitLibav();
    const std::string& input = options.input;
    const bool inMemory = options.memory.data != nullptr;
    if (!inMemory && input.find("://") == std::string::npos) {
      struct stat st;
      if (stat(input.c_str(), &st) != 0) throw Error(ErrorCode::NotFound, input + ": no such file", input);
    }
    // Every libav object is held by an owner: a throw below frees what was opened so far.
    file_ = std::make_unique<InputFile>(input, inMemory ? &options.memory : nullptr, options.readTimeoutSec);
    format_ = file_->get();
    // Refuse absurd dimensions declared in the header before anything decodes a frame.
    CheckDeclaredSizes();
    std::vector<AVDictionary*> streamOptions(format_->nb_streams, nullptr);
    for (auto& dict : streamOptions) av_dict_set_int(&dict, "max_pixels", PixelLimit(), 0);
    file_->Arm();
    int err = avformat_find_stream_info(format_, streamOptions.data());
    for (auto& dict : streamOptions) av_dict_free(&dict);
    if (err < 0) file_->FailRead(err, ErrorCode::Open, "cannot read stream info");
    file_->ThrowIfTimedOut();
    streamIndex_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (streamIndex_ < 0) throw Error(ErrorCode::NoVideo, input + ": no video stream", input);
    stream_ = format_->streams[streamIndex_];
    CheckSize(stream_->codecpar->width, stream_->codecpar->height);
    OpenCodec();
    FillProbe();
    packetHolder_ = AllocPacket(input);
    frameHolder_ = AllocFrame(input);
    packet_ = packetHolder_.get();
    frame_ = frameHolder_.get();
    // Without every frame decoded, the decode counter is not the frame index.
    if (options_.skipNonReference || options_.gopHeadSec >= 0) indexFromPts_ = true;
    if (options_.start > 0) SeekInternal(options_.start);
  }

  const ProbeInfo& Probe() const override { return probe_; }
  const DecodeStats& Stats() const override { return stats_; }
  const std::vector<double>& KeyframeTimes() const override { return keyframeTimes_; }

  void Seek(double seconds) override {
    if (!(seconds >= 0)) Fail(ErrorCode::InvalidArg, "Expected a time >= 0 for seek");
    SeekInternal(seconds);
  }

  bool Next(const TargetProvider& target, FrameInfo& info) override {
    if (finished_) return false;
    int errorsInRow = 0;
    for (;;) {
      if (options_.maxFramesDecoded > 0 && stats_.framesDecoded >= options_.maxFramesDecoded) {
        stats_.capped = true;  // the caller's cap on frames analysed (hostile or endless input)
        Finish(false);
        return false;
      }
      const int err = avcodec_receive_frame(codec_, frame_);
      if (err != 0 && err != AVERROR_EOF && err != AVERROR(EAGAIN)) {
        stats_.decodeErrors++;
        stats_.lastError = AvError(err);
      }
      switch (AfterReceive(err, draining_, errorsInRow)) {
        case ReceiveStep::Frame: {
          errorsInRow = 0;
          stats_.framesDecoded++;
          const bool taken = Accept(info);
          if (taken) {
            Deliver(target, info);
            av_frame_unref(frame_);
            return true;
          }
          av_frame_unref(frame_);
          if (finished_) return false;
          continue;
        }
        case ReceiveStep::End:
          Finish(true);
          return false;
        case ReceiveStep::Retry:
          errorsInRow++;
          continue;
        case ReceiveStep::Feed:
          errorsInRow = 0;
          ReadAndSend();
          continue;
      }
    }
  }

 private:
  int64_t PixelLimit() const { return options_.maxPixels > 0 ? options_.maxPixels : INT64_MAX / 4; }

  void CheckSize(int width, int height) {
    if (width <= 0 || height <= 0) return;
    int64_t pixels = static_cast<int64_t>(width) * height;
    if (options_.maxPixels > 0 && pixels > options_.maxPixels)
      throw Error(ErrorCode::TooLarge,
                  options_.input + ": the video declares " + std::to_string(width) + "x" + std::to_string(height) +
                      " pixels per frame, more than the limit of " + std::to_string(options_.maxPixels) +
                      " (option maxPixels)",
                  options_.input);
  }

  void CheckDeclaredSizes() {
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      const AVCodecParameters* par = format_->streams[i]->codecpar;
      if (par->codec_type == AVMEDIA_TYPE_VIDEO) CheckSize(par->width, par->height);
    }
  }

  void OpenCodec() {
    const AVCodec* decoder = avcodec_find_decoder(stream_->codecpar->codec_id);
    if (decoder == nullptr) {
      const char* name = avcodec_get_name(stream_->codecpar->codec_id);
      throw Error(ErrorCode::Unsupported, options_.input + ": no decoder for codec '" + name + "'", options_.input);
    }
    codecHolder_.reset(avcodec_alloc_context3(decoder));
    codec_ = codecHolder_.get();
    if (!codec_) throw Error(ErrorCode::Internal, options_.input + ": out of memory (codec context)", options_.input);
    int err = avcodec_parameters_to_context(codec_, stream_->codecpar);
    if (err < 0) throw Error(ErrorCode::Open, options_.input + ": bad codec parameters: " + AvError(err), options_.input);
    codec_->thread_count = options_.threads;  // 0 lets libavcodec use every core
    codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    codec_->max_pixels = PixelLimit();
    codec_->pkt_timebase = stream_->time_base;
    if (options_.sampling == DecoderOptions::Sampling::Keyframes) codec_->skip_frame = AVDISCARD_NONKEY;
    else if (options_.skipNonReference) codec_->skip_frame = AVDISCARD_NONREF;
    if (options_.fastDecode) {
      codec_->skip_loop_filter = AVDISCARD_ALL;
      codec_->flags2 |= AV_CODEC_FLAG2_FAST;
    }
    err = avcodec_open2(codec_, decoder, nullptr);
    if (err < 0) throw Error(ErrorCode::Unsupported, options_.input + ": cannot open the " + decoder->name + " decoder: " + AvError(err), options_.input, AvError(err));
  }

  void FillProbe() {
    const AVCodecParameters* par = stream_->codecpar;
    probe_.input = options_.input;
    probe_.container = format_->iformat->name;
    probe_.codec = avcodec_get_name(par->codec_id);
    SetProbeSizes(probe_, par->width, par->height, RotationFromDisplayMatrix(stream_), options_);
    SetProbePixelFormat(probe_, par->format);
    probe_.avgFrameRate = Rational(stream_->avg_frame_rate);
    probe_.realFrameRate = Rational(stream_->r_frame_rate);
    startTime_ = format_->start_time != AV_NOPTS_VALUE ? format_->start_time / static_cast<double>(AV_TIME_BASE) : 0.0;
    probe_.startTimeSec = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time * av_q2d(stream_->time_base) : startTime_;
    if (stream_->duration != AV_NOPTS_VALUE) probe_.durationSec = stream_->duration * av_q2d(stream_->time_base);
    else if (format_->duration != AV_NOPTS_VALUE) probe_.durationSec = format_->duration / static_cast<double>(AV_TIME_BASE);
    probe_.frameCount = stream_->nb_frames > 0 ? stream_->nb_frames : -1;
    for (const AVDictionary* tags : {stream_->metadata, format_->metadata}) {
      const AVDictionaryEntry* focal = av_dict_get(tags, "com.apple.quicktime.camera.focal_length.35mm_equivalent", nullptr, 0);
      if (focal != nullptr && probe_.focalLength35mm <= 0) probe_.focalLength35mm = FocalLengthTag(focal->value);
    }
    // Containers mark VFR by an average rate that differs from the base (real) rate.
    probe_.variableFrameRate = probe_.avgFrameRate > 0 && probe_.realFrameRate > 0 &&
                               std::fabs(probe_.avgFrameRate - probe_.realFrameRate) > 0.01 * probe_.realFrameRate;
  }

  double FrameSeconds(const AVFrame* frame) const {
    int64_t ts = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
    if (ts == AV_NOPTS_VALUE) return lastPts_ + (probe_.avgFrameRate > 0 ? 1.0 / probe_.avgFrameRate : 0.0);
    return ts * av_q2d(stream_->time_base) - startTime_;
  }

  // Decides whether the decoded frame_ is delivered, and fills its info.
  bool Accept(FrameInfo& info) {
    const double pts = FrameSeconds(frame_);
    int64_t index;
    if (indexFromPts_) {
      index = std::llround(pts * probe_.avgFrameRate);
    } else if (options_.sampling == DecoderOptions::Sampling::Keyframes) {
      index = keyIndices_.empty() ? frameCounter_ : keyIndices_.front();
      if (!keyIndices_.empty()) keyIndices_.pop_front();
    } else {
      index = frameCounter_;
    }
    frameCounter_++;
    lastPts_ = pts;
    switch (schedule_.Decide(pts)) {
      case FrameSchedule::Verdict::Skip: return false;
      case FrameSchedule::Verdict::End: Finish(false); return false;
      case FrameSchedule::Verdict::Take: break;
    }
    info.index = index;
    info.ptsSec = pts;
    info.keyframe = frame_->key_frame != 0;
    if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT)) stats_.corruptFrames++;
    return true;
  }

  void Deliver(const TargetProvider& target, FrameInfo& info) {
    info.size = converter_.Deliver(frame_, options_.applyRotation ? probe_.rotation : 0, options_, target);
    stats_.framesDelivered++;
  }

  // Fetching wanted frames far apart: seek to the keyframe before the next one instead of
  // decoding everything in between.
  void JumpTowardsWanted() {
    const double* wanted = schedule_.NextWanted();
    const auto next = static_cast<int64_t>(schedule_.NextWantedIndex());
    if (wanted == nullptr || jumpedFor_ == next) return;
    double seekTo;
    if (options_.wantedKeyframePts.size() == options_.wantedPts.size()) {
      // Jump when the wanted frame's keyframe lies beyond what was demuxed already.
      seekTo = options_.wantedKeyframePts[next];
      if (seekTo <= lastPacketEnd_ + FrameSchedule::kEps) return;
    } else {
      if (*wanted < lastPts_ + kJumpSeconds) return;
      seekTo = *wanted;
    }
    jumpedFor_ = next;
    int64_t target = static_cast<int64_t>((seekTo + startTime_) * AV_TIME_BASE);
    file_->Arm();
    if (avformat_seek_file(format_, -1, INT64_MIN, target, target, 0) < 0) return;  // decode on instead
    avcodec_flush_buffers(codec_);
    keyIndices_.clear();
    headOpen_ = false;
    indexFromPts_ = true;
  }
  static constexpr double kJumpSeconds = 2.0;

  void ReadAndSend() {
    if (!options_.wantedPts.empty()) JumpTowardsWanted();
    for (;;) {
      file_->Arm();
      int err = av_read_frame(format_, packet_);
      if (err < 0) {
        if (file_->TimedOut()) file_->FailRead(err, ErrorCode::Timeout, "read");
        if (err != AVERROR_EOF) {
          // An I/O error or a cut-off file: decode what we have, then report truncation.
          stats_.truncated = true;
          stats_.lastError = AvError(err);
        }
        avcodec_send_packet(codec_, nullptr);
        draining_ = true;
        return;
      }
      if (packet_->stream_index != streamIndex_) {
        av_packet_unref(packet_);
        continue;
      }
      stats_.packetsRead++;
      if (packet_->pts != AV_NOPTS_VALUE) {
        double endSec = (packet_->pts + std::max<int64_t>(packet_->duration, 0)) * av_q2d(stream_->time_base) - startTime_;
        lastPacketEnd_ = std::max(lastPacketEnd_, endSec);
      }
      const bool discard = (packet_->flags & AV_PKT_FLAG_DISCARD) != 0;
      if ((packet_->flags & AV_PKT_FLAG_KEY) && packet_->pts != AV_NOPTS_VALUE) {
        const double keySec = packet_->pts * av_q2d(stream_->time_base) - startTime_;
        if (keyframeTimes_.empty() || keySec > keyframeTimes_.back()) keyframeTimes_.push_back(keySec);
      }
      if (!discard) presentablePackets_++;
      const bool key = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
      if (options_.gopHeadSec >= 0 && !InGopHead(key)) {
        av_packet_unref(packet_);
        continue;
      }
      if (options_.sampling == DecoderOptions::Sampling::Keyframes) {
        if (!key) {  // never even sent: that is what makes keyframe-only decoding fast
          av_packet_unref(packet_);
          continue;
        }
        keyIndices_.push_back(presentablePackets_ - 1);  // frames come out in send order
      }
      // Packets an edit list marks as discarded decode (as references) but yield no frame.
      if (!discard) stats_.packetsSent++;
      err = avcodec_send_packet(codec_, packet_);
      av_packet_unref(packet_);
      if (err < 0 && err != AVERROR(EAGAIN)) {
        stats_.decodeErrors++;
        stats_.lastError = AvError(err);
      }
      return;
    }
  }

  // GOP-head sampling: a keyframe opens a head of gopHeadSec; later packets go to the decoder
  // while they stay inside it. The first one past it closes the head for the rest of the GOP,
  // so what is sent is a decode-order prefix and every reference it needs was sent before it.
  // Leading pictures of an open GOP (shown before their keyframe) reference the previous GOP's
  // tail, which was skipped: they are skipped too.
  bool InGopHead(bool key) {
    const double pts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts * av_q2d(stream_->time_base) - startTime_ : NAN;
    if (key) {
      headOpen_ = true;
      headKeySec_ = std::isnan(pts) ? lastPacketEnd_ : pts;
      headSec_ = options_.gopHeadSec;
      const double length = GopLengthFromIndex(headKeySec_);
      if (options_.gopMaxSkipSec >= 0 && std::isfinite(length)) headSec_ = std::max(headSec_, length - options_.gopMaxSkipSec);
      return true;
    }
    if (!headOpen_) return false;
    if (std::isnan(pts)) return true;  // no timestamp: keep the decode-order run unbroken
    if (pts > headKeySec_ + headSec_ + FrameSchedule::kEps) {
      headOpen_ = false;
      return false;
    }
    return pts >= headKeySec_ - FrameSchedule::kEps;
  }

  std::vector<double> IndexedKeyframeTimes(size_t max) const override {
    std::vector<double> times;
    const int entries = avformat_index_get_entries_count(stream_);
    // A sparse index (one cue per cluster) would hide keyframes: only a full one is read.
    if (stream_->nb_frames <= 0 || entries < stream_->nb_frames) return times;
    const double tb = av_q2d(stream_->time_base);
    for (int i = 0; i < entries && times.size() < max; ++i) {
      const AVIndexEntry* entry = avformat_index_get_entry(stream_, i);
      if (entry == nullptr || !(entry->flags & AVINDEX_KEYFRAME) || (entry->flags & AVINDEX_DISCARD_FRAME)) continue;
      if (entry->timestamp != AV_NOPTS_VALUE) times.push_back(entry->timestamp * tb - startTime_);
    }
    return times;
  }

  // Seconds from the keyframe at keySec to the next one (or to the end of the stream after the
  // last), from the container's index (mp4, mkv cues); NaN when the container has none (TS).
  double GopLengthFromIndex(double keySec) const {
    if (avformat_index_get_entries_count(stream_) <= 0) return NAN;
    const double tb = av_q2d(stream_->time_base);
    const auto after = static_cast<int64_t>(std::floor((keySec + startTime_) / tb)) + 1;
    const int next = av_index_search_timestamp(stream_, after, 0);  // keyframe entries only
    if (next >= 0) {
      const AVIndexEntry* entry = avformat_index_get_entry(stream_, next);
      if (entry != nullptr && entry->timestamp != AV_NOPTS_VALUE) return entry->timestamp * tb - startTime_ - keySec;
    }
    if (probe_.durationSec > 0) return probe_.startTimeSec - startTime_ + probe_.durationSec - keySec;
    return NAN;
  }

  void Finish(bool reachedEof) {
    if (finished_) return;
    finished_ = true;
    if (!reachedEof) return;
    // Frames the decoder drops on purpose (skipNonReference) are not lost: no count then.
    if (!options_.skipNonReference) stats_.framesLost = std::max<int64_t>(0, stats_.packetsSent - stats_.framesDecoded);
    // A file cut short ends before the duration it declares.
    const double streamEnd = lastPacketEnd_ - (probe_.startTimeSec - startTime_);
    if (!stats_.truncated && probe_.durationSec > 0 && probe_.avgFrameRate > 0 && stats_.packetsRead > 0 &&
        streamEnd < probe_.durationSec - 3.0 / probe_.avgFrameRate) {
      stats_.truncated = true;
      stats_.lastError = "the data ends at " + std::to_string(streamEnd) + " s of a declared " +
                         std::to_string(probe_.durationSec) + " s";
    }
  }

  void SeekInternal(double seconds) {
    // Frame indices stay exact only when decoding from the start; after a seek they come from
    // the timestamp, which is exact for constant frame rate. VFR streams therefore decode from
    // the start and drop frames before the target.
    const bool exactByDecoding = probe_.variableFrameRate || probe_.avgFrameRate <= 0;
    avcodec_flush_buffers(codec_);
    keyIndices_.clear();
    headOpen_ = false;  // the seek lands on a keyframe, which opens the next head
    draining_ = false;
    finished_ = false;
    file_->Arm();
    if (exactByDecoding) {
      int64_t ts = format_->start_time != AV_NOPTS_VALUE ? format_->start_time : 0;
      int err = avformat_seek_file(format_, -1, INT64_MIN, ts, ts, 0);
      if (err < 0) av_seek_frame(format_, streamIndex_, 0, AVSEEK_FLAG_BACKWARD);
      frameCounter_ = 0;
      presentablePackets_ = 0;
      stats_.packetsRead = 0;
      indexFromPts_ = false;
    } else {
      int64_t target = static_cast<int64_t>((seconds + startTime_) * AV_TIME_BASE);
      int err = avformat_seek_file(format_, -1, INT64_MIN, target, target, 0);
      if (err < 0) file_->FailRead(err, ErrorCode::Decode, "cannot seek to " + std::to_string(seconds) + " s");
      indexFromPts_ = seconds > 0 || options_.skipNonReference || options_.gopHeadSec >= 0;
    }
    schedule_.Restart(seconds);
  }

  DecoderOptions options_;
  ProbeInfo probe_;
  DecodeStats stats_;
  // Owners first: members are destroyed in reverse order, so the raw views below never dangle
  // and the codec is freed before the input it reads from is closed.
  std::unique_ptr<InputFile> file_;
  CodecHandle codecHolder_;
  PacketHandle packetHolder_;
  FrameHandle frameHolder_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  int streamIndex_ = -1;
  FrameConverter converter_;
  double startTime_ = 0;
  FrameSchedule schedule_{options_};
  double lastPts_ = 0;
  double lastPacketEnd_ = 0;
  std::vector<double> keyframeTimes_;
  int64_t jumpedFor_ = -1;  // the wanted entry we last seeked for (seek once per entry)  // end time of the latest packet demuxed, from the container start
  int64_t frameCounter_ = 0;
  int64_t presentablePackets_ = 0;  // video packets not discarded by an edit list
  std::deque<int64_t> keyIndices_;  // keyframe mode: packet index of each frame in flight
  bool indexFromPts_ = false;
  bool headOpen_ = false;   // GOP-head sampling: still inside the current keyframe's head
  double headKeySec_ = 0;   // time of the keyframe that opened it
  double headSec_ = 0;      // the head's length for this GOP
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<FrameSource> OpenVideoSource(const DecoderOptions& options) {
  return std::make_unique<VideoSource>(options);
}

}  // namespace framesift
