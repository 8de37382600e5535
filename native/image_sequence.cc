// Image-sequence frame source: a list of JPEG/PNG files (a folder or a glob, ordered by the
// TS layer), each decoded with libavcodec, EXIF orientation applied. pts = index / fps.
#include <cmath>
#include <cstdlib>
#include <sys/stat.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
}

#include "decoder.h"
#include "errors.h"
#include "frame_convert.h"
#include "frame_schedule.h"
#include "libav_util.h"

namespace framesift {
namespace {

// One decoded image file; owns its libav objects.
class ImageFile {
 public:
  ImageFile(const std::string& path, int64_t maxPixels) : path_(path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) throw Error(ErrorCode::NotFound, path + ": no such file", path);
    int err = avformat_open_input(&format_, path.c_str(), nullptr, nullptr);
    if (err < 0) throw Error(ErrorCode::Open, path + ": cannot open image: " + AvError(err), path, AvError(err));
    if (format_->nb_streams < 1) throw Error(ErrorCode::Open, path + ": not an image", path);
    const AVCodecParameters* par = format_->streams[0]->codecpar;
    if (maxPixels > 0 && static_cast<int64_t>(par->width) * par->height > maxPixels)
      throw Error(ErrorCode::TooLarge, path + ": image of " + std::to_string(par->width) + "x" +
                                           std::to_string(par->height) + " exceeds the pixel limit", path);
    const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
    if (!decoder) throw Error(ErrorCode::Unsupported, path + ": no decoder for '" + avcodec_get_name(par->codec_id) + "'", path);
    codec_ = avcodec_alloc_context3(decoder);
    avcodec_parameters_to_context(codec_, par);
    codec_->max_pixels = maxPixels > 0 ? maxPixels : INT64_MAX / 4;
    err = avcodec_open2(codec_, decoder, nullptr);
    if (err < 0) throw Error(ErrorCode::Unsupported, path + ": cannot open decoder: " + AvError(err), path);
    packet_ = av_packet_alloc();
    frame_ = av_frame_alloc();
    err = av_read_frame(format_, packet_);
    if (err < 0) throw Error(ErrorCode::Open, path + ": cannot read image data: " + AvError(err), path, AvError(err));
    err = avcodec_send_packet(codec_, packet_);
    if (err >= 0) avcodec_send_packet(codec_, nullptr);
    if (err >= 0) err = avcodec_receive_frame(codec_, frame_);
    if (err < 0) throw Error(ErrorCode::Decode, path + ": cannot decode image: " + AvError(err), path, AvError(err));
    const AVDictionaryEntry* orientation = av_dict_get(frame_->metadata, "Orientation", nullptr, 0);
    if (orientation != nullptr) rotation_ = ExifOrientationToRotation(std::atoi(orientation->value));
  }
  ~ImageFile() {
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
  }
  const AVFrame* Frame() const { return frame_; }
  int Rotation() const { return rotation_; }
  const char* CodecName() const { return codec_->codec->name; }

 private:
  std::string path_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  int rotation_ = 0;
};

class ImageSequence final : public FrameSource {
 public:
  explicit ImageSequence(const DecoderOptions& options) : options_(options) {
    InitLibav();
    ImageFile first(options.files.front(), options.maxPixels);
    const AVFrame* f = first.Frame();
    probe_.input = options.input;
    probe_.container = "image_sequence";
    probe_.codec = first.CodecName();
    SetProbeSizes(probe_, f->width, f->height, first.Rotation(), options);
    SetProbePixelFormat(probe_, f->format);
    probe_.avgFrameRate = probe_.realFrameRate = options.sequenceFps;
    probe_.frameCount = static_cast<int64_t>(options.files.size());
    probe_.durationSec = probe_.frameCount / options.sequenceFps;
    probe_.isImageSequence = true;
    Seek(options.start > 0 ? options.start : 0);
  }

  const ProbeInfo& Probe() const override { return probe_; }
  const DecodeStats& Stats() const override { return stats_; }
  // Every image stands alone: seeking is exact without keyframe times.
  const std::vector<double>& KeyframeTimes() const override { return keyframeTimes_; }

  void Seek(double seconds) override {
    if (!(seconds >= 0)) Fail(ErrorCode::InvalidArg, "Expected a time >= 0 for seek");
    next_ = static_cast<size_t>(std::ceil(seconds * options_.sequenceFps - 1e-9));
    schedule_.Restart(seconds);
  }

  bool Next(const TargetProvider& target, FrameInfo& info) override {
    while (next_ < options_.files.size()) {
      const size_t index = next_++;
      const double pts = index / options_.sequenceFps;
      const FrameSchedule::Verdict verdict = schedule_.Decide(pts);
      if (verdict == FrameSchedule::Verdict::End) return false;
      if (verdict == FrameSchedule::Verdict::Skip) continue;  // never even read from disk
      stats_.packetsRead++;
      stats_.packetsSent++;
      // Every file is its own input: a bad file names itself and stops the sequence.
      ImageFile image(options_.files[index], options_.maxPixels);
      stats_.framesDecoded++;
      info.size = converter_.Deliver(image.Frame(), options_.applyRotation ? image.Rotation() : 0, options_, target);
      info.index = static_cast<int64_t>(index);
      info.ptsSec = pts;
      info.keyframe = true;
      stats_.framesDelivered++;
      return true;
    }
    return false;
  }

 private:
  DecoderOptions options_;
  ProbeInfo probe_;
  DecodeStats stats_;
  FrameConverter converter_;  // one scaler cache: sequences usually share one size
  size_t next_ = 0;
  FrameSchedule schedule_{options_};
  std::vector<double> keyframeTimes_;
};

}  // namespace

std::unique_ptr<FrameSource> OpenImageSequence(const DecoderOptions& options) {
  if (!(options.sequenceFps > 0)) Fail(ErrorCode::InvalidArg, "Expected a frame rate > 0 for an image sequence");
  return std::make_unique<ImageSequence>(options);
}

}  // namespace framesift
