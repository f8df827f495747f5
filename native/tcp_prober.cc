// TCP connect prober for TCP_CHECK: non-blocking connect()s on one epoll set, watched by one uv_poll handle
// on the thread's own event loop, with one uv_timer for all connect timeouts. Results go to JavaScript in
// batches (three Int32Arrays per loop turn), so a check costs a socket, a connect and a close — no Node
// Socket, stream, handle wrap, listener closures or timer per check.
//
// Contract as keepalived's TCP_CHECK: a full connect (the handshake completes), closed at once;
// connect_timeout per attempt (retries and warmup stay with the engine). A timeout is decided only right
// after the epoll set was drained, so a connection the kernel completed while the loop was busy is
// reported as connected, never as timed out; the result carries how late the timeout timer fired.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kEpollBatch = 512;

bool ParseAddress(const std::string& host, uint16_t port, sockaddr_storage* out, socklen_t* len) {
  memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

class TcpProber : public Napi::ObjectWrap<TcpProber> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TcpProber", {
      InstanceMethod("connect", &TcpProber::Connect),
      InstanceMethod("close", &TcpProber::Close),
      InstanceAccessor("pending", &TcpProber::PendingCount, nullptr),
    });
  }

  explicit TcpProber(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TcpProber>(info) {
    Napi::Env env = info.Env();
    env_ = env;
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "TcpProber(onResults: function)").ThrowAsJavaScriptException();
      return;
    }
    napi_create_reference(env, info[0], 1, &callback_);
    napi_create_reference(env, info.This(), 0, &selfRef_);
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      Napi::Error::New(env, std::string("epoll_create1: ") + strerror(errno)).ThrowAsJavaScriptException();
      return;
    }
    if (napi_get_uv_event_loop(env, &loop_) != napi_ok || loop_ == nullptr) {
      Napi::Error::New(env, "no libuv loop").ThrowAsJavaScriptException();
      return;
    }
    poll_ = new uv_poll_t;
    timer_ = new uv_timer_t;
    uv_poll_init(loop_, poll_, epfd_);
    uv_timer_init(loop_, timer_);
    poll_->data = this;
    timer_->data = this;
    uv_poll_start(poll_, UV_READABLE, OnPoll);
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hooked_ = true;
  }

  ~TcpProber() override {
    Shutdown();
    if (env_ && callback_) napi_delete_reference(env_, callback_);
    if (env_ && selfRef_) napi_delete_reference(env_, selfRef_);
  }

 private:
  struct Pending {
    int fd;
    std::multimap<uint64_t, int32_t>::iterator deadline;
  };

  static void CleanupHook(void* self) {
    auto* p = static_cast<TcpProber*>(self);
    p->hooked_ = false;
    p->Shutdown();
  }

  // Closes every socket and both handles. The handles are closed without a close callback and not freed
  // (two small structs, once per thread): when a worker thread is torn down, libuv finishes closing them
  // after Node has unloaded this addon from the thread, so a callback here would be a jump into nothing.
  void Shutdown() {
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, CleanupHook, this);
      hooked_ = false;
    }
    for (auto& [id, p] : pending_) ::close(p.fd);
    pending_.clear();
    deadlines_.clear();
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), nullptr);
      poll_ = nullptr;
    }
    if (timer_) {
      uv_timer_stop(timer_);
      uv_close(reinterpret_cast<uv_handle_t*>(timer_), nullptr);
      timer_ = nullptr;
    }
    if (epfd_ >= 0) {
      ::close(epfd_);
      epfd_ = -1;
    }
  }

  Napi::Value PendingCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_.size()));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  // connect(id, host, port, timeoutMs, bindHost?, bindPort?) -> 0 in progress (a result will come in a
  // batch), -1 connected at once (closed already), or a positive errno (failed at once, no result will come).
  Napi::Value Connect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (epfd_ < 0) return Napi::Number::New(env, EBADF);
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
      Napi::TypeError::New(env, "connect(id, host, port, timeoutMs, bindHost?, bindPort?)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int32_t id = info[0].As<Napi::Number>().Int32Value();
    const std::string host = info[1].As<Napi::String>().Utf8Value();
    const uint32_t port = info[2].As<Napi::Number>().Uint32Value();
    const double timeoutMs = info[3].As<Napi::Number>().DoubleValue();
    sockaddr_storage addr;
    socklen_t addrLen = 0;
    if (port > 65535 || !ParseAddress(host, static_cast<uint16_t>(port), &addr, &addrLen)) return Napi::Number::New(env, EINVAL);
    if (pending_.count(id)) return Napi::Number::New(env, EEXIST);

    const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Napi::Number::New(env, errno);
    const bool hasBindHost = info.Length() > 4 && info[4].IsString();
    const bool hasBindPort = info.Length() > 5 && info[5].IsNumber();
    if (hasBindHost || hasBindPort) {
      sockaddr_storage local;
      socklen_t localLen = 0;
      const std::string bindHost = hasBindHost ? info[4].As<Napi::String>().Utf8Value() : (addr.ss_family == AF_INET ? "0.0.0.0" : "::");
      const uint32_t bindPort = hasBindPort ? info[5].As<Napi::Number>().Uint32Value() : 0;
      if (bindPort > 65535 || !ParseAddress(bindHost, static_cast<uint16_t>(bindPort), &local, &localLen) || local.ss_family != addr.ss_family) {
        ::close(fd);
        return Napi::Number::New(env, EINVAL);
      }
      if (::bind(fd, reinterpret_cast<sockaddr*>(&local), localLen) != 0) {
        const int err = errno;
        ::close(fd);
        return Napi::Number::New(env, err);
      }
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), addrLen) == 0) {
      ::close(fd);
      return Napi::Number::New(env, -1);
    }
    if (errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd);
      return Napi::Number::New(env, err);
    }
    epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT;
    ev.data.u64 = static_cast<uint32_t>(id);
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      const int err = errno;
      ::close(fd);
      return Napi::Number::New(env, err);
    }
    const uint64_t deadline = uv_hrtime() + static_cast<uint64_t>(timeoutMs > 0 ? timeoutMs * 1e6 : 0);
    auto it = deadlines_.emplace(deadline, id);
    pending_.emplace(id, Pending{fd, it});
    if (pending_.size() == 1) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
      uv_ref(reinterpret_cast<uv_handle_t*>(timer_));
    }
    if (!timerArmed_ || deadline < armedFor_) ArmTimer();
    return Napi::Number::New(env, 0);
  }

  void ArmTimer() {
    if (!timer_) return;
    if (deadlines_.empty()) {
      uv_timer_stop(timer_);
      timerArmed_ = false;
      return;
    }
    const uint64_t first = deadlines_.begin()->first;
    const uint64_t now = uv_hrtime();
    const uint64_t ms = first > now ? (first - now + 999999) / 1000000 : 0;
    uv_timer_start(timer_, OnTimer, ms, 0);
    timerArmed_ = true;
    armedFor_ = first;
  }

  void Finish(std::unordered_map<int32_t, Pending>::iterator it, int err, int lateMs) {
    ::close(it->second.fd);  // also leaves the epoll set
    deadlines_.erase(it->second.deadline);
    outIds_.push_back(it->first);
    outErrs_.push_back(err);
    outLate_.push_back(lateMs);
    pending_.erase(it);
  }

  // Every connect the kernel has finished: the handshake's outcome is SO_ERROR (0 = connected).
  void Drain() {
    epoll_event evs[kEpollBatch];
    for (;;) {
      const int n = epoll_wait(epfd_, evs, kEpollBatch, 0);
      if (n <= 0) break;
      for (int i = 0; i < n; i++) {
        auto it = pending_.find(static_cast<int32_t>(static_cast<uint32_t>(evs[i].data.u64)));
        if (it == pending_.end()) continue;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(it->second.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        Finish(it, err, -1);
      }
      if (n < kEpollBatch) break;
    }
  }

  void Expire() {
    const uint64_t now = uv_hrtime();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto [deadline, id] = *deadlines_.begin();
      auto it = pending_.find(id);
      if (it == pending_.end()) {
        deadlines_.erase(deadlines_.begin());
        continue;
      }
      Finish(it, ETIMEDOUT, static_cast<int>((now - deadline) / 1000000));
    }
  }

  void Deliver() {
    if (pending_.empty() && poll_ && timer_) {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
    }
    if (outIds_.empty()) return;
    // Raw N-API with every status checked: this runs from libuv, and while a worker thread is being
    // terminated every call into JavaScript fails; node-addon-api would turn that failure into a throw,
    // which is fatal there. The batch is then dropped (the engine goes with the thread).
    napi_env env = env_;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    const size_t n = outIds_.size();
    napi_value args[3];
    const std::vector<int32_t>* columns[3] = {&outIds_, &outErrs_, &outLate_};
    bool ok = true;
    for (int c = 0; c < 3 && ok; c++) {
      void* data = nullptr;
      napi_value buffer;
      ok = napi_create_arraybuffer(env, n * sizeof(int32_t), &data, &buffer) == napi_ok &&
           napi_create_typedarray(env, napi_int32_array, n, buffer, 0, &args[c]) == napi_ok;
      if (ok) memcpy(data, columns[c]->data(), n * sizeof(int32_t));
    }
    outIds_.clear();
    outErrs_.clear();
    outLate_.clear();
    napi_value self = nullptr;
    napi_value fn = nullptr;
    if (ok) ok = napi_get_reference_value(env, callback_, &fn) == napi_ok && fn != nullptr;
    if (ok) ok = napi_get_reference_value(env, selfRef_, &self) == napi_ok && self != nullptr;
    if (ok) {
      // make_callback: the promises resolved by the callback settle before libuv goes on.
      napi_value result;
      if (napi_make_callback(env, nullptr, self, fn, 3, args, &result) != napi_ok) {
        bool pending = false;
        napi_value error;
        if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &error);
      }
    }
    napi_close_handle_scope(env, scope);
  }

  static void OnPoll(uv_poll_t* h, int /*status*/, int /*events*/) {
    auto* self = static_cast<TcpProber*>(h->data);
    self->Drain();
    self->Deliver();
  }

  // A timeout is decided only after the epoll set was drained: an answer that is there wins.
  static void OnTimer(uv_timer_t* h) {
    auto* self = static_cast<TcpProber*>(h->data);
    self->timerArmed_ = false;
    self->Drain();
    self->Expire();
    self->ArmTimer();
    self->Deliver();
  }

  napi_ref callback_ = nullptr;
  napi_ref selfRef_ = nullptr;  // weak: the receiver of the callback
  napi_env env_ = nullptr;
  bool hooked_ = false;
  int epfd_ = -1;
  uv_loop_t* loop_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  bool timerArmed_ = false;
  uint64_t armedFor_ = 0;
  std::unordered_map<int32_t, Pending> pending_;
  std::multimap<uint64_t, int32_t> deadlines_;
  std::vector<int32_t> outIds_, outErrs_, outLate_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TcpProber", TcpProber::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tslvsd_tcp_prober, Init)
