// Image-sequence frame source: a list of JPEG/PNG files (a folder or a glob, ordered by the
// TS layer), each decoded with libavcodec, EXIF orientation applied. pts = index / fps.
#include <cmath>
#include <memory>
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

// One decoded image file. Its libav objects are held by owners, so a constructor that throws
// half-way (too large, no decoder, bad data) frees them and closes the file.
class ImageFile {
 public:
  ImageFile(const std::string& path, int64_t maxPixels, const MemoryInput* memory) {
    if (memory == nullptr) {
      struct stat st;
      if (stat(path.c_str(), &st) != 0) throw Error(ErrorCode::NotFound, path + ": no such file", path);
    }
    file_ = std::make_unique<InputFile>(path, memory, 0.0);
    AVFormatContext* format = file_->get();
    if (format->nb_streams < 1) throw Error(ErrorCode::Open, path + ": not an image", path);
    const AVCodecParameters* par = format->streams[0]->codecpar;
    if (par->codec_type != AVMEDIA_TYPE_VIDEO) throw Error(ErrorCode::Open, path + ": not an image", path);
    if (maxPixels > 0 && static_cast<int64_t>(par->width) * par->height > maxPixels)
      throw Error(ErrorCode::TooLarge, path + ": image of " + std::to_string(par->width) + "x" +
                                           std::to_string(par->height) + " exceeds the pixel limit", path);
    const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
    if (!decoder) throw Error(ErrorCode::Unsupported, path + ": no decoder for '" + avcodec_get_name(par->codec_id) + "'", path);
    codec_.reset(avcodec_alloc_context3(decoder));
    if (!codec_) throw Error(ErrorCode::Internal, path + ": out of memory (codec context)", path);
    int err = avcodec_parameters_to_context(codec_.get(), par);
    if (err < 0) throw Error(ErrorCode::Open, path + ": bad codec parameters: " + AvError(err), path, AvError(err));
    codec_->max_pixels = maxPixels > 0 ? maxPixels : INT64_MAX / 4;
    codec_->thread_count = 1;  // one small picture: threads cost more than they give
    err = avcodec_open2(codec_.get(), decoder, nullptr);
    if (err < 0) throw Error(ErrorCode::Unsupported, path + ": cannot open decoder: " + AvError(err), path, AvError(err));
    packet_ = AllocPacket(path);
    frame_ = AllocFrame(path);
    err = av_read_frame(format, packet_.get());
    if (err < 0) throw Error(ErrorCode::Open, path + ": cannot read image data: " + AvError(err), path, AvError(err));
    err = avcodec_send_packet(codec_.get(), packet_.get());
    if (err >= 0) err = avcodec_send_packet(codec_.get(), nullptr);
    if (err >= 0 || err == AVERROR_EOF) err = avcodec_receive_frame(codec_.get(), frame_.get());
    if (err < 0) throw Error(ErrorCode::Decode, path + ": cannot decode image: " + AvError(err), path, AvError(err));
    if (frame_->width <= 0 || frame_->height <= 0 || (maxPixels > 0 && static_cast<int64_t>(frame_->width) * frame_->height > maxPixels))
      throw Error(ErrorCode::Decode, path + ": decoded an image of " + std::to_string(frame_->width) + "x" +
                                         std::to_string(frame_->height) + " pixels", path);
    const AVDictionaryEntry* orientation = av_dict_get(frame_->metadata, "Orientation", nullptr, 0);
    if (orientation != nullptr) rotation_ = ExifOrientationToRotation(std::atoi(orientation->value));
    const AVDictionaryEntry* focal = av_dict_get(frame_->metadata, "FocalLengthIn35mmFilm", nullptr, 0);
    if (focal != nullptr) focalLength35mm_ = FocalLengthTag(focal->value);
  }
  double FocalLength35mm() const { return focalLength35mm_; }
  const AVFrame* Frame() const { return frame_.get(); }
  int Rotation() const { return rotation_; }
  const char* CodecName() const { return codec_->codec->name; }

 private:
  std::unique_ptr<InputFile> file_;  // destroyed last: the codec goes before its input
  CodecHandle codec_;
  PacketHandle packet_;
  FrameHandle frame_;
  int rotation_ = 0;
  double focalLength35mm_ = 0;
};

class ImageSequence final : public FrameSource {
 public:
  explicit ImageSequence(const DecoderOptions& options) : options_(options) {
    InitLibav();
    ImageFile first(options.files.front(), options.maxPixels, Memory());
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
    probe_.focalLength35mm = first.FocalLength35mm();
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
      if (options_.maxFramesDecoded > 0 && stats_.framesDecoded >= options_.maxFramesDecoded) {
        stats_.capped = true;
        return false;
      }
      const size_t index = next_++;
      const double pts = index / options_.sequenceFps;
      const FrameSchedule::Verdict verdict = schedule_.Decide(pts);
      if (verdict == FrameSchedule::Verdict::End) return false;
      if (verdict == FrameSchedule::Verdict::Skip) continue;  // never even read from disk
      stats_.packetsRead++;
      stats_.packetsSent++;
      // Every file is its own input: a bad file names itself and stops the sequence.
      ImageFile image(options_.files[index], options_.maxPixels, Memory());
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
  const MemoryInput* Memory() const { return options_.memory.data != nullptr ? &options_.memory : nullptr; }

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
