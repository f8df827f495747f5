// TCP connect prober for TCP_CHECK: non-blocking connect()s on one epoll set, watched by one uv_poll handle
// on the thread's own event loop, with one uv_timer for all connect timeouts. Results go to JavaScript in
// batches (three Int32Arrays per loop turn), so a check costs a socket, a connect and a close — no Node
// Socket, stream, handle wrap, listener closures or timer per check.
//
// Contract as keepalived's TCP_CHECK: a full connect (the handshake completes), closed at once;
// connect_timeout per attempt (retries and warmup stay with the engine). A timeout is decided only right
// after the epoll set was drained, so a connection the kernel completed while the loop was busy is
// reported as connected, never as timed out; the result carries how late the timeout timer fired.
//
// Standing watches (watch/unwatch/collect): the steady state of a checker — an UP one whose connects
// succeed, a DOWN one whose connects fail — repeats here without JavaScript: the watch connects every
// interval, counts what it saw, and reports to JavaScript only the first result that differs from what
// it was told to expect (then it ends; the engine decides retries and transitions as ever). A thousand
// checks a second cost no JavaScript at all while nothing changes, as in keepalived's checker process.
// A watch told to expect nothing is one connect after its delay (a first check, a retry): every check of
// the checker then waits in this one schedule, in due order, as keepalived's checker thread runs them.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kEpollBatch = 512;
// Watches due within this of each other share one wake-up (as the engine's timer grid in the worker).
constexpr uint64_t kLaunchGridNs = 10'000'000;
// At most this long launching watches per wake-up, and this long taking finished connects per drain (the
// engine's timer queue has the same budget, WAKE_BUDGET_MS): a checker far behind (a saturated core) gives
// its loop back often — heartbeats, messages, the engine's retries and verdicts — instead of launching all
// it owes in one go. The rest goes at the next wake-up, a grid step on, so the engine's own timers (which
// yield with a 0 ms timer) come first when both are behind: a retry, which may change a verdict, is worth
// more than one more confirmation of a steady state.
constexpr uint64_t kWakeBudgetNs = 20'000'000;
constexpr int kExpectDown = 0;
constexpr int kExpectUp = 1;
constexpr int kExpectNothing = 2;
// A launch later than this past its due time counts as behind schedule (the engine's BEHIND_SCHEDULE_MS).
constexpr uint64_t kBehindNs = 200'000'000;

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
      InstanceMethod("watch", &TcpProber::WatchTarget),
      InstanceMethod("unwatch", &TcpProber::Unwatch),
      InstanceMethod("collect", &TcpProber::Collect),
      InstanceAccessor("pending", &TcpProber::PendingCount, nullptr),
      InstanceAccessor("armedDelayMs", &TcpProber::ArmedDelay, nullptr),
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
    bool watch;
    uint64_t started;
  };

  // A standing watch: the target, its interval and what result is expected, and what it has counted
  // since the last collect().
  struct Watch {
    sockaddr_storage addr;
    socklen_t addrLen;
    bool hasLocal;
    sockaddr_storage local;
    socklen_t localLen;
    double timeoutMs;
    uint64_t intervalNs;
    int expect;  // kExpectDown, kExpectUp, or kExpectNothing (the first result is reported, whatever it is)
    bool inFlight;
    uint64_t due;
    std::multimap<uint64_t, int32_t>::iterator scheduled;
    uint32_t checks;
    uint32_t failures;
    int lastErr;
    uint32_t lastDurationUs;
    bool dirty;
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
    watches_.clear();
    schedule_.clear();
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

  Napi::Value ArmedDelay(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(armedDelayMs_));
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
    if (pending_.count(id) || watches_.count(id)) return Napi::Number::New(env, EEXIST);

    const bool hasBindHost = info.Length() > 4 && info[4].IsString();
    const bool hasBindPort = info.Length() > 5 && info[5].IsNumber();
    sockaddr_storage local;
    socklen_t localLen = 0;
    if ((hasBindHost || hasBindPort) && !ParseLocal(info, 4, addr.ss_family, &local, &localLen)) return Napi::Number::New(env, EINVAL);
    int fd = -1;
    const int rc = StartConnect(addr, addrLen, hasBindHost || hasBindPort ? &local : nullptr, localLen, &fd);
    if (rc != 0) return Napi::Number::New(env, rc);
    return Napi::Number::New(env, Track(id, fd, timeoutMs, false));
  }

  // bindHost (info[at], may be undefined) and bindPort (info[at + 1]) as a local address of the family.
  static bool ParseLocal(const Napi::CallbackInfo& info, size_t at, int family, sockaddr_storage* local, socklen_t* localLen) {
    const bool hasBindHost = info.Length() > at && info[at].IsString();
    const bool hasBindPort = info.Length() > at + 1 && info[at + 1].IsNumber();
    const std::string bindHost = hasBindHost ? info[at].As<Napi::String>().Utf8Value() : (family == AF_INET ? "0.0.0.0" : "::");
    const uint32_t bindPort = hasBindPort ? info[at + 1].As<Napi::Number>().Uint32Value() : 0;
    return bindPort <= 65535 && ParseAddress(bindHost, static_cast<uint16_t>(bindPort), local, localLen) && local->ss_family == family;
  }

  // A non-blocking connect: 0 with *fd in progress (to be watched), -1 connected at once (closed
  // already), or a positive errno (failed at once, nothing left open).
  static int StartConnect(const sockaddr_storage& addr, socklen_t addrLen, const sockaddr_storage* local, socklen_t localLen, int* fdOut) {
    const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    if (local && ::bind(fd, reinterpret_cast<const sockaddr*>(local), localLen) != 0) {
      const int err = errno;
      ::close(fd);
      return err;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), addrLen) == 0) {
      ::close(fd);
      return -1;
    }
    if (errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd);
      return err;
    }
    *fdOut = fd;
    return 0;
  }

  // Puts a connect in progress on the epoll set with its deadline: 0, or the errno of epoll (fd closed).
  int Track(int32_t id, int fd, double timeoutMs, bool watch) {
    epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT;
    ev.data.u64 = static_cast<uint32_t>(id);
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      const int err = errno;
      ::close(fd);
      return err;
    }
    const uint64_t now = uv_hrtime();
    const uint64_t deadline = now + static_cast<uint64_t>(timeoutMs > 0 ? timeoutMs * 1e6 : 0);
    auto it = deadlines_.emplace(deadline, id);
    pending_.emplace(id, Pending{fd, it, watch, now});
    RefHandles();
    if (!timerArmed_ || deadline < armedFor_) ArmTimer();
    return 0;
  }

  void RefHandles() {
    if (refd_ || !poll_ || !timer_) return;
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    uv_ref(reinterpret_cast<uv_handle_t*>(timer_));
    refd_ = true;
  }

  // watch(id, host, port, timeoutMs, bindHost|undefined, bindPort|undefined, firstDelayMs, intervalMs,
  // expect) -> 0, or a positive errno (EINVAL: bad address; EEXIST: id in use). expect: 0 down, 1 up, 2
  // nothing (one connect after firstDelayMs, its result reported: a retry, a first check).
  Napi::Value WatchTarget(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (epfd_ < 0) return Napi::Number::New(env, EBADF);
    if (info.Length() < 9 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber() ||
        !info[6].IsNumber() || !info[7].IsNumber() || !info[8].IsNumber()) {
      Napi::TypeError::New(env, "watch(id, host, port, timeoutMs, bindHost, bindPort, firstDelayMs, intervalMs, expect)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int32_t id = info[0].As<Napi::Number>().Int32Value();
    const uint32_t port = info[2].As<Napi::Number>().Uint32Value();
    Watch w{};
    if (port > 65535 || !ParseAddress(info[1].As<Napi::String>().Utf8Value(), static_cast<uint16_t>(port), &w.addr, &w.addrLen)) return Napi::Number::New(env, EINVAL);
    w.hasLocal = (info[4].IsString() || info[5].IsNumber());
    if (w.hasLocal && !ParseLocal(info, 4, w.addr.ss_family, &w.local, &w.localLen)) return Napi::Number::New(env, EINVAL);
    if (pending_.count(id) || watches_.count(id)) return Napi::Number::New(env, EEXIST);
    w.timeoutMs = info[3].As<Napi::Number>().DoubleValue();
    const double firstDelayMs = info[6].As<Napi::Number>().DoubleValue();
    const double intervalMs = info[7].As<Napi::Number>().DoubleValue();
    w.intervalNs = static_cast<uint64_t>(intervalMs > 0 ? intervalMs * 1e6 : 0);
    w.expect = info[8].As<Napi::Number>().Int32Value();
    if (w.expect < kExpectDown || w.expect > kExpectNothing) return Napi::Number::New(env, EINVAL);
    w.lastErr = -1;
    auto [it, inserted] = watches_.emplace(id, w);
    (void)inserted;
    ScheduleWatch(id, it->second, uv_hrtime() + static_cast<uint64_t>(firstDelayMs > 0 ? firstDelayMs * 1e6 : 0));
    RefHandles();
    ArmTimer();
    return Napi::Number::New(env, 0);
  }

  void ScheduleWatch(int32_t id, Watch& w, uint64_t due) {
    w.due = due;
    w.inFlight = false;
    w.scheduled = schedule_.emplace(due, id);
  }

  // unwatch(id) -> [checks, failures, dueInMs] it counted since the last collect() (dueInMs: when its next
  // connect was due, 0 if one is in flight), or undefined if there is no such watch. The connect in
  // flight, if any, is closed.
  Napi::Value Unwatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
    const int32_t id = info[0].As<Napi::Number>().Int32Value();
    auto it = watches_.find(id);
    if (it == watches_.end()) return env.Undefined();
    Watch& w = it->second;
    const uint64_t now = uv_hrtime();
    double dueIn = 0;
    if (w.inFlight) {
      auto p = pending_.find(id);
      if (p != pending_.end()) {
        ::close(p->second.fd);
        deadlines_.erase(p->second.deadline);
        pending_.erase(p);
      }
    } else {
      dueIn = w.due > now ? static_cast<double>(w.due - now) / 1e6 : 0;
      schedule_.erase(w.scheduled);
    }
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::Number::New(env, w.checks));
    out.Set(1u, Napi::Number::New(env, w.failures));
    out.Set(2u, Napi::Number::New(env, dueIn));
    watches_.erase(it);
    return out;
  }

  // collect() -> { ids, checks, failures, errnos, durationsUs, maxLateMs, behind }: every watch that
  // counted a connect since the last call (what it counted, its last result), and over all of them the
  // worst launch lateness and how many launches were more than kBehindMs late. Counts restart from zero.
  Napi::Value Collect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int32_t> ids, checks, failures, errs, durs;
    for (auto& [id, w] : watches_) {
      if (!w.dirty) continue;
      ids.push_back(id);
      checks.push_back(static_cast<int32_t>(w.checks));
      failures.push_back(static_cast<int32_t>(w.failures));
      errs.push_back(w.lastErr);
      durs.push_back(static_cast<int32_t>(w.lastDurationUs));
      w.checks = 0;
      w.failures = 0;
      w.dirty = false;
    }
    auto column = [&](const std::vector<int32_t>& v) {
      Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, v.size() * sizeof(int32_t));
      if (!v.empty()) memcpy(buf.Data(), v.data(), v.size() * sizeof(int32_t));
      return Napi::Int32Array::New(env, v.size(), buf, 0);
    };
    Napi::Object out = Napi::Object::New(env);
    out.Set("ids", column(ids));
    out.Set("checks", column(checks));
    out.Set("failures", column(failures));
    out.Set("errnos", column(errs));
    out.Set("durationsUs", column(durs));
    out.Set("maxLateMs", Napi::Number::New(env, static_cast<double>(maxLateNs_) / 1e6));
    out.Set("behind", Napi::Number::New(env, behind_));
    maxLateNs_ = 0;
    behind_ = 0;
    return out;
  }

  // Every watch due by now (at most one wake-up per kLaunchGridNs): connect, or count at once.
  void LaunchDue() {
    const uint64_t now = uv_hrtime();
    while (!schedule_.empty() && schedule_.begin()->first <= now && uv_hrtime() - now < kWakeBudgetNs) {
      const auto [due, id] = *schedule_.begin();
      schedule_.erase(schedule_.begin());
      auto it = watches_.find(id);
      if (it == watches_.end()) continue;
      Watch& w = it->second;
      const uint64_t late = now - due;
      if (late > maxLateNs_) maxLateNs_ = late;
      if (late > kBehindNs) behind_++;
      w.inFlight = true;
      int fd = -1;
      const int rc = StartConnect(w.addr, w.addrLen, w.hasLocal ? &w.local : nullptr, w.localLen, &fd);
      if (rc == 0) {
        const int err = Track(id, fd, w.timeoutMs, true);
        if (err != 0) WatchResult(it, err, -1, now);
      } else {
        WatchResult(it, rc == -1 ? 0 : rc, -1, now);
      }
    }
  }

  // A watch's connect ended: counted and rescheduled if it is what the watch expects, else reported to
  // JavaScript (with what it counted) and the watch ends.
  void WatchResult(std::unordered_map<int32_t, Watch>::iterator it, int err, int lateMs, uint64_t started) {
    Watch& w = it->second;
    const uint64_t now = uv_hrtime();
    const bool up = err == 0;
    if (w.expect != kExpectNothing && up == (w.expect == kExpectUp)) {
      w.checks++;
      if (!up) w.failures++;
      w.lastErr = err;
      w.lastDurationUs = static_cast<uint32_t>((now - started) / 1000);
      w.dirty = true;
      ScheduleWatch(it->first, w, now + w.intervalNs);
      return;
    }
    outIds_.push_back(it->first);
    outErrs_.push_back(err);
    outLate_.push_back(lateMs);
    outChecks_.push_back(static_cast<int32_t>(w.checks));
    outFailures_.push_back(static_cast<int32_t>(w.failures));
    outDurUs_.push_back(static_cast<int32_t>((now - started) / 1000));
    watches_.erase(it);
  }

  // One timer for the earliest connect deadline and the earliest watch launch; launches wake the loop at
  // most once per kLaunchGridNs (watches due within it start together, each at most that late).
  void ArmTimer() {
    if (!timer_) return;
    uint64_t first = UINT64_MAX;
    if (!deadlines_.empty()) first = deadlines_.begin()->first;
    if (!schedule_.empty()) first = std::min(first, std::max(schedule_.begin()->first, lastLaunch_ + kLaunchGridNs));
    if (first == UINT64_MAX) {
      uv_timer_stop(timer_);
      timerArmed_ = false;
      return;
    }
    const uint64_t now = uv_hrtime();
    // Never 0 ms, even when something is overdue. This is called from OnTimer, and libuv before 1.48 (Node
    // 20 has 1.46) runs a timer re-armed with 0 inside its own callback again in the same pass of
    // uv__run_timers, whose idea of now does not move (libuv#4245): a checker behind schedule (a drain cut
    // short while a deadline is overdue, launches still due) then spun there for good, with no heartbeat,
    // no message and no way for Worker.terminate() to stop it. 1 ms is already past after a callback that
    // ran at all, so the timer fires on the next loop turn, after the poll phase and JavaScript had theirs.
    const uint64_t ms = first > now ? std::max<uint64_t>(1, (first - now + 999999) / 1000000) : 1;
    armedDelayMs_ = ms;
    uv_timer_start(timer_, OnTimer, ms, 0);
    timerArmed_ = true;
    armedFor_ = first;
  }

  void Finish(std::unordered_map<int32_t, Pending>::iterator it, int err, int lateMs) {
    const int32_t id = it->first;
    const Pending p = it->second;
    ::close(p.fd);  // also leaves the epoll set
    deadlines_.erase(p.deadline);
    pending_.erase(it);
    if (p.watch) {
      auto w = watches_.find(id);
      if (w != watches_.end()) WatchResult(w, err, lateMs, p.started);
      return;
    }
    outIds_.push_back(id);
    outErrs_.push_back(err);
    outLate_.push_back(lateMs);
    outChecks_.push_back(0);
    outFailures_.push_back(0);
    outDurUs_.push_back(0);
  }

  // Every connect the kernel has finished: the handshake's outcome is SO_ERROR (0 = connected).
  // True when the set is drained; false when the budget ran out first (answers are still waiting).
  bool Drain() {
    epoll_event evs[kEpollBatch];
    const uint64_t start = uv_hrtime();
    for (;;) {
      const int n = epoll_wait(epfd_, evs, kEpollBatch, 0);
      if (n <= 0) return true;
      int i = 0;
      for (; i < n; i++) {
        // Over budget: the rest stay ready on the (level-triggered) epoll set for the next drain.
        if ((i & 15) == 15 && uv_hrtime() - start >= kWakeBudgetNs) break;
        auto it = pending_.find(static_cast<int32_t>(static_cast<uint32_t>(evs[i].data.u64)));
        if (it == pending_.end()) continue;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(it->second.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        Finish(it, err, -1);
      }
      if (i < n) return false;
      if (n < kEpollBatch) return true;
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
    if (pending_.empty() && watches_.empty() && refd_ && poll_ && timer_) {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
      refd_ = false;
    }
    if (outIds_.empty()) return;
    // Raw N-API with every status checked: this runs from libuv, and while a worker thread is being
    // terminated every call into JavaScript fails; node-addon-api would turn that failure into a throw,
    // which is fatal there. The batch is then dropped (the engine goes with the thread).
    napi_env env = env_;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    const size_t n = outIds_.size();
    napi_value args[6];
    const std::vector<int32_t>* columns[6] = {&outIds_, &outErrs_, &outLate_, &outChecks_, &outFailures_, &outDurUs_};
    bool ok = true;
    for (int c = 0; c < 6 && ok; c++) {
      void* data = nullptr;
      napi_value buffer;
      ok = napi_create_arraybuffer(env, n * sizeof(int32_t), &data, &buffer) == napi_ok &&
           napi_create_typedarray(env, napi_int32_array, n, buffer, 0, &args[c]) == napi_ok;
      if (ok) memcpy(data, columns[c]->data(), n * sizeof(int32_t));
    }
    outIds_.clear();
    outErrs_.clear();
    outLate_.clear();
    outChecks_.clear();
    outFailures_.clear();
    outDurUs_.clear();
    napi_value self = nullptr;
    napi_value fn = nullptr;
    if (ok) ok = napi_get_reference_value(env, callback_, &fn) == napi_ok && fn != nullptr;
    if (ok) ok = napi_get_reference_value(env, selfRef_, &self) == napi_ok && self != nullptr;
    if (ok) {
      // make_callback: the promises resolved by the callback settle before libuv goes on.
      napi_value result;
      if (napi_make_callback(env, nullptr, self, fn, 6, args, &result) != napi_ok) {
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
    // Watches that just counted a connect are due again one interval on, maybe before the armed time.
    if (!self->schedule_.empty() && (!self->timerArmed_ || self->schedule_.begin()->first < self->armedFor_)) self->ArmTimer();
    self->Deliver();
  }

  // A timeout is decided only after the epoll set was drained: an answer that is there wins.
  static void OnTimer(uv_timer_t* h) {
    auto* self = static_cast<TcpProber*>(h->data);
    self->timerArmed_ = false;
    // Timeouts only once every answer that is there has been taken (else the next wake-up decides them).
    if (self->Drain()) self->Expire();
    if (!self->schedule_.empty() && self->schedule_.begin()->first <= uv_hrtime()) {
      self->lastLaunch_ = uv_hrtime();
      self->LaunchDue();
    }
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
  uint64_t armedDelayMs_ = 0;  // the last delay given to uv_timer_start (tests: never 0)
  std::unordered_map<int32_t, Pending> pending_;
  std::multimap<uint64_t, int32_t> deadlines_;
  bool refd_ = false;
  std::unordered_map<int32_t, Watch> watches_;
  std::multimap<uint64_t, int32_t> schedule_;  // watches' next launches
  uint64_t lastLaunch_ = 0;
  uint64_t maxLateNs_ = 0;
  uint32_t behind_ = 0;
  std::vector<int32_t> outIds_, outErrs_, outLate_, outChecks_, outFailures_, outDurUs_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TcpProber", TcpProber::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tslvsd_tcp_prober, Init)
