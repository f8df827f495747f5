// tslvsd's own N-API addon: the socket work Node cannot do itself.
//  - sendFrame(ifindex, frame): a complete Ethernet frame out of one interface over AF_PACKET/SOCK_RAW
//    (gratuitous ARP on the failover path, where spawning arping is not an option).
//  - sendUnixDatagram(path, message): one AF_UNIX datagram (systemd's NOTIFY_SOCKET; "@name" = abstract).
//  - VrrpSocket: the VRRP sockets of one interface (see the class comment below).
//  - lockFile(fd): an open-file-description write lock on the whole file, not waiting (pid files).
// Errors come back as thrown JS errors carrying `errno` and `code`; nothing here aborts the process.
#include <napi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

// One AF_PACKET socket for the whole process: sll_ifindex in sendto() picks the interface, so there is
// nothing per-interface to keep open.
int packetSocket = -1;

const char* ErrnoCode(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENETDOWN: return "ENETDOWN";
    case EINVAL: return "EINVAL";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EAGAIN: return "EAGAIN";
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EBADF: return "EBADF";
    default: return "EUNKNOWN";
  }
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  std::string message = std::string(syscall) + " failed: " + strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, ErrnoCode(err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value SendFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer()) {
    return ThrowType(env, "sendFrame(ifindex: number, frame: Buffer)");
  }
  int64_t ifindex = info[0].As<Napi::Number>().Int64Value();
  Napi::Buffer<uint8_t> frame = info[1].As<Napi::Buffer<uint8_t>>();
  if (ifindex <= 0 || ifindex > 0x7fffffff) return ThrowType(env, "ifindex must be a positive integer");
  if (frame.Length() < ETH_HLEN) return ThrowType(env, "frame shorter than an Ethernet header");

  if (packetSocket < 0) {
    // Protocol 0: a send-only socket, the kernel queues no received frames to it.
    packetSocket = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (packetSocket < 0) return ThrowErrno(env, "socket", errno);
  }

  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof(addr));
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(ifindex);
  addr.sll_halen = ETH_ALEN;
  memcpy(addr.sll_addr, frame.Data(), ETH_ALEN);  // destination MAC from the frame itself
  uint16_t ethertype;
  memcpy(&ethertype, frame.Data() + 12, 2);
  addr.sll_protocol = ethertype;  // already network order

  ssize_t sent = sendto(packetSocket, frame.Data(), frame.Length(), MSG_DONTWAIT,
                        reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  if (sent < 0) return ThrowErrno(env, "sendto", errno);
  return Napi::Number::New(env, static_cast<double>(sent));
}

Napi::Value SendUnixDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    return ThrowType(env, "sendUnixDatagram(path: string, message: Buffer)");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> message = info[1].As<Napi::Buffer<uint8_t>>();
  if (path.empty()) return ThrowType(env, "empty socket path");

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  socklen_t addrLen;
  if (path[0] == '@') {
    // Abstract namespace: leading NUL, no terminator, the length counts exactly the name.
    if (path.size() > sizeof(addr.sun_path)) return ThrowErrno(env, "connect", ENAMETOOLONG);
    addr.sun_path[0] = '\0';
    memcpy(addr.sun_path + 1, path.data() + 1, path.size() - 1);
    addrLen = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size());
  } else {
    if (path.size() >= sizeof(addr.sun_path)) return ThrowErrno(env, "connect", ENAMETOOLONG);
    memcpy(addr.sun_path, path.data(), path.size());
    addrLen = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + 1);
  }

  // A fresh socket per message: notifications are rare and this keeps no state to go stale.
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  ssize_t sent = sendto(fd, message.Data(), message.Length(), MSG_DONTWAIT | MSG_NOSIGNAL,
                        reinterpret_cast<struct sockaddr*>(&addr), addrLen);
  int err = errno;
  close(fd);
  if (sent < 0) return ThrowErrno(env, "sendto", err);
  return Napi::Number::New(env, static_cast<double>(sent));
}

// ---- VrrpSocket ----------------------------------------------------------------------------------------
//
// The VRRP sockets of one interface, built so that no receive load can delay a send:
//  - a send-only socket (IPPROTO_RAW: the kernel never queues a received packet to it; IP_HDRINCL implied,
//    the header is ours), bound to the interface; send() is one synchronous sendto() — nothing queues
//    behind reads, and the return value says whether the kernel accepted the packet;
//  - a receive socket (protocol 112) bound to the interface, joined to the groups, with a classic BPF
//    program (SO_ATTACH_FILTER, built in TypeScript) so the kernel drops what is not ours before it is
//    queued; read with recvmmsg() in batches from a libuv poll handle, several batches per readable event
//    but bounded, so timers (the advert timer) run between two events whatever the flood.
// The packets of one batch reach JS in one call: one Buffer with them end to end and their lengths.
//
// family 6 (VRRPv3 over IPv6, RFC 5798): both sockets are AF_INET6 raw protocol 112 (an IPv6 raw socket
// never carries our header: the kernel builds it), the send one behind a drop-all filter so the kernel
// queues nothing to it. Sends: sendmsg() with IPV6_PKTINFO (the source address and interface of this
// advert), hop limit 255 (IPV6_MULTICAST_HOPS / IPV6_UNICAST_HOPS), IPV6_CHECKSUM at offset 6 (the kernel
// computes the pseudo-header checksum, as keepalived has it do). Receives: IPV6_RECVHOPLIMIT and
// IPV6_RECVPKTINFO, joined with IPV6_JOIN_GROUP; no IPV6_CHECKSUM there (keepalived sets it, so the kernel
// drops a bad checksum unseen): user space checks it and counts it. A raw IPv6 socket delivers only the
// payload, so each packet reaches JS behind a 40-byte IPv6 header rebuilt from the peer address, the
// packet-info destination and the hop limit (0 when the kernel gave none) — the same shape as IPv4.

constexpr int kBatch = 64;            // packets per recvmmsg()
constexpr int kBatchesPerEvent = 4;   // then back to the event loop (timers, sends)
constexpr size_t kSlotBytes = 4200;   // an advert is at most 20 + 8 + 255 * 4 + 8 bytes (IPv6: 40 + 8 + 255 * 16)
constexpr size_t kIpv6Header = 40;    // the header rebuilt in front of an IPv6 packet
constexpr size_t kControlBytes = 128; // IPV6_HOPLIMIT + IPV6_PKTINFO ancillary data
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

bool ParseIpv4(const std::string& text, struct in_addr* out) {
  return inet_pton(AF_INET, text.c_str(), out) == 1;
}

bool ParseIpv6(const std::string& text, struct in6_addr* out) {
  return inet_pton(AF_INET6, text.c_str(), out) == 1;
}

class VrrpSocket : public Napi::ObjectWrap<VrrpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VrrpSocket",
                       {InstanceMethod("send", &VrrpSocket::Send), InstanceMethod("setFilter", &VrrpSocket::SetFilter),
                        InstanceMethod("stats", &VrrpSocket::Stats), InstanceMethod("close", &VrrpSocket::Close)});
  }

  // new VrrpSocket({ ifname, ifindex, groups: string[], filter: Buffer, receiveBufferBytes, sendSocket,
  //                  family?: 4 | 6, hopLimit?: number, kernelChecksum?: boolean }, onPackets, onError)
  // (sendSocket false: a receive-only one, e.g. the priority lane for the master's adverts. hopLimit and
  // kernelChecksum are for test senders: the daemon always sends 255 with the kernel's checksum.)
  explicit VrrpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VrrpSocket>(info), env_(info.Env()) { Open(info); }

  ~VrrpSocket() override { Shutdown(); }

 private:
  static constexpr int IPPROTO_VRRP_NUMBER = 112;

  // The constructor's work; on failure a JS exception is pending and nothing stays open.
  void Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsFunction() || !info[2].IsFunction()) {
      ThrowType(env, "new VrrpSocket(options, onPackets, onError)");
      return;
    }
    Napi::Object options = info[0].As<Napi::Object>();
    Napi::Value ifnameValue = options.Get("ifname");
    Napi::Value ifindexValue = options.Get("ifindex");
    Napi::Value groupsValue = options.Get("groups");
    Napi::Value filterValue = options.Get("filter");
    Napi::Value rcvbufValue = options.Get("receiveBufferBytes");
    Napi::Value sendSocketValue = options.Get("sendSocket");
    if (!ifnameValue.IsString() || !ifindexValue.IsNumber() || !groupsValue.IsArray() || !filterValue.IsBuffer() ||
        !rcvbufValue.IsNumber() || !sendSocketValue.IsBoolean()) {
      ThrowType(env, "options: { ifname: string, ifindex: number, groups: string[], filter: Buffer, receiveBufferBytes: number, sendSocket: boolean }");
      return;
    }
    Napi::Value familyValue = options.Get("family");
    Napi::Value hopLimitValue = options.Get("hopLimit");
    Napi::Value kernelChecksumValue = options.Get("kernelChecksum");
    if (familyValue.IsNumber()) family_ = static_cast<int>(familyValue.As<Napi::Number>().Int64Value());
    if (family_ != 4 && family_ != 6) {
      ThrowType(env, "family must be 4 or 6");
      return;
    }
    int hopLimit = 255;
    if (hopLimitValue.IsNumber()) hopLimit = static_cast<int>(hopLimitValue.As<Napi::Number>().Int64Value());
    if (hopLimit < 1 || hopLimit > 255) {
      ThrowType(env, "hopLimit must be 1..255");
      return;
    }
    bool kernelChecksum = !kernelChecksumValue.IsBoolean() || kernelChecksumValue.As<Napi::Boolean>().Value();
    std::string ifname = ifnameValue.As<Napi::String>().Utf8Value();
    int64_t ifindex = ifindexValue.As<Napi::Number>().Int64Value();
    if (ifname.empty() || ifname.size() >= 16) {
      ThrowType(env, "ifname must be 1..15 characters");
      return;
    }
    if (ifindex <= 0 || ifindex > 0x7fffffff) {
      ThrowType(env, "ifindex must be a positive integer");
      return;
    }
    std::vector<struct in_addr> groups;
    std::vector<struct in6_addr> groups6;
    Napi::Array groupArray = groupsValue.As<Napi::Array>();
    for (uint32_t i = 0; i < groupArray.Length(); i++) {
      Napi::Value g = groupArray.Get(i);
      struct in_addr addr;
      struct in6_addr addr6;
      if (family_ == 6) {
        if (!g.IsString() || !ParseIpv6(g.As<Napi::String>().Utf8Value(), &addr6)) {
          ThrowType(env, "groups must be IPv6 addresses");
          return;
        }
        groups6.push_back(addr6);
        continue;
      }
      if (!g.IsString() || !ParseIpv4(g.As<Napi::String>().Utf8Value(), &addr)) {
        ThrowType(env, "groups must be IPv4 addresses");
        return;
      }
      groups.push_back(addr);
    }
    int rcvbuf = static_cast<int>(rcvbufValue.As<Napi::Number>().Int64Value());
    ifindex_ = static_cast<int>(ifindex);
    if (family_ == 6) {
      if (!Open6(env, ifname, groups6, filterValue.As<Napi::Buffer<uint8_t>>(), rcvbuf, sendSocketValue.As<Napi::Boolean>().Value(), hopLimit, kernelChecksum)) return;
      return StartPolling(info);
    }

    // Receive socket. The filter goes on first, so what is queued from then on is only what it lets through.
    recvFd_ = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_VRRP_NUMBER);
    if (recvFd_ < 0) return Fail("socket", errno);
    if (!AttachFilter(env, filterValue.As<Napi::Buffer<uint8_t>>())) return CloseFds();
    int zero = 0;
    int one = 1;
    if (rcvbuf > 0 && setsockopt(recvFd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) return Fail("setsockopt(SO_RCVBUF)", errno);
    // Only the groups this socket joined, not every group some other socket joined on the host.
    if (setsockopt(recvFd_, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) < 0) return Fail("setsockopt(IP_MULTICAST_ALL)", errno);
    if (setsockopt(recvFd_, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size() + 1) < 0) return Fail("setsockopt(SO_BINDTODEVICE)", errno);
    for (const struct in_addr& group : groups) {
      struct ip_mreqn mreq;
      memset(&mreq, 0, sizeof(mreq));
      mreq.imr_multiaddr = group;
      mreq.imr_ifindex = ifindex_;
      if (setsockopt(recvFd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) return Fail("setsockopt(IP_ADD_MEMBERSHIP)", errno);
    }

    // Send-only socket: IPPROTO_RAW receives nothing, by definition (raw(7)).
    if (sendSocketValue.As<Napi::Boolean>().Value()) {
      sendFd_ = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
      if (sendFd_ < 0) return Fail("socket", errno);
      if (setsockopt(sendFd_, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) return Fail("setsockopt(IP_HDRINCL)", errno);
      if (setsockopt(sendFd_, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size() + 1) < 0) return Fail("setsockopt(SO_BINDTODEVICE)", errno);
      int ttl = 255;
      if (setsockopt(sendFd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) return Fail("setsockopt(IP_MULTICAST_TTL)", errno);
      if (setsockopt(sendFd_, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0) return Fail("setsockopt(IP_MULTICAST_LOOP)", errno);
      struct ip_mreqn mif;
      memset(&mif, 0, sizeof(mif));
      mif.imr_ifindex = ifindex_;
      if (setsockopt(sendFd_, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof(mif)) < 0) return Fail("setsockopt(IP_MULTICAST_IF)", errno);
    }

    StartPolling(info);
  }

  // The IPv6 sockets; false with a JS exception pending and nothing open on failure.
  bool Open6(Napi::Env env, const std::string& ifname, const std::vector<struct in6_addr>& groups, Napi::Buffer<uint8_t> filter, int rcvbuf,
             bool sendSocket, int hopLimit, bool kernelChecksum) {
    int zero = 0;
    int one = 1;
    recvFd_ = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_VRRP_NUMBER);
    if (recvFd_ < 0) return Fail6("socket", errno);
    if (!AttachFilter(env, filter)) return CloseFds(), false;
    if (rcvbuf > 0 && setsockopt(recvFd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) return Fail6("setsockopt(SO_RCVBUF)", errno);
    if (setsockopt(recvFd_, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof(zero)) < 0) return Fail6("setsockopt(IPV6_MULTICAST_ALL)", errno);
    if (setsockopt(recvFd_, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size() + 1) < 0) return Fail6("setsockopt(SO_BINDTODEVICE)", errno);
    if (setsockopt(recvFd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)) < 0) return Fail6("setsockopt(IPV6_RECVHOPLIMIT)", errno);
    if (setsockopt(recvFd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0) return Fail6("setsockopt(IPV6_RECVPKTINFO)", errno);
    for (const struct in6_addr& group : groups) {
      struct ipv6_mreq mreq;
      memset(&mreq, 0, sizeof(mreq));
      mreq.ipv6mr_multiaddr = group;
      mreq.ipv6mr_interface = static_cast<unsigned>(ifindex_);
      if (setsockopt(recvFd_, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof(mreq)) < 0) return Fail6("setsockopt(IPV6_JOIN_GROUP)", errno);
    }
    if (!sendSocket) return true;
    sendFd_ = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_VRRP_NUMBER);
    if (sendFd_ < 0) return Fail6("socket", errno);
    // A protocol-112 socket would get a copy of every advert: a filter that takes nothing keeps its queue empty.
    struct sock_filter dropAll = BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog dropProgram = {1, &dropAll};
    if (setsockopt(sendFd_, SOL_SOCKET, SO_ATTACH_FILTER, &dropProgram, sizeof(dropProgram)) < 0) return Fail6("setsockopt(SO_ATTACH_FILTER)", errno);
    if (setsockopt(sendFd_, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size() + 1) < 0) return Fail6("setsockopt(SO_BINDTODEVICE)", errno);
    if (kernelChecksum) {
      int offset = 6;
      if (setsockopt(sendFd_, IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof(offset)) < 0) return Fail6("setsockopt(IPV6_CHECKSUM)", errno);
    }
    if (setsockopt(sendFd_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hopLimit, sizeof(hopLimit)) < 0) return Fail6("setsockopt(IPV6_MULTICAST_HOPS)", errno);
    if (setsockopt(sendFd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hopLimit, sizeof(hopLimit)) < 0) return Fail6("setsockopt(IPV6_UNICAST_HOPS)", errno);
    if (setsockopt(sendFd_, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0) return Fail6("setsockopt(IPV6_MULTICAST_LOOP)", errno);
    unsigned mif = static_cast<unsigned>(ifindex_);
    if (setsockopt(sendFd_, IPPROTO_IPV6, IPV6_MULTICAST_IF, &mif, sizeof(mif)) < 0) return Fail6("setsockopt(IPV6_MULTICAST_IF)", errno);
    return true;
  }

  bool Fail6(const char* syscall, int err) {
    Fail(syscall, err);
    return false;
  }

  void StartPolling(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    slots_.resize(static_cast<size_t>(kBatch) * kSlotBytes);
    controls_.resize(static_cast<size_t>(kBatch) * kControlBytes);
    names_.resize(kBatch);
    onPackets_ = Napi::Persistent(info[1].As<Napi::Function>());
    onError_ = Napi::Persistent(info[2].As<Napi::Function>());
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "VrrpSocket");

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return Fail("uv_default_loop", EINVAL);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, recvFd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), FreePoll);
      poll_ = nullptr;
      return Fail("uv_poll_start", -rc);
    }
    // The poll handle points at this object: keep it alive until close(), whatever JS holds.
    Ref();
    open_ = true;
  }

  Napi::Value ThrowType(Napi::Env env, const char* message) {
    Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  void Fail(const char* syscall, int err) {
    ThrowErrno(env_, syscall, err);
    CloseFds();
  }

  void CloseFds() {
    if (recvFd_ >= 0) close(recvFd_);
    if (sendFd_ >= 0) close(sendFd_);
    recvFd_ = sendFd_ = -1;
  }

  static void FreePoll(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

  bool AttachFilter(Napi::Env env, Napi::Buffer<uint8_t> program) {
    size_t bytes = program.Length();
    if (bytes == 0 || bytes % sizeof(struct sock_filter) != 0 || bytes / sizeof(struct sock_filter) > BPF_MAXINSNS) {
      ThrowType(env, "filter must be 1..4096 instructions of 8 bytes");
      return false;
    }
    std::vector<struct sock_filter> code(bytes / sizeof(struct sock_filter));
    memcpy(code.data(), program.Data(), bytes);  // host byte order, as TypeScript wrote it
    struct sock_fprog fprog;
    fprog.len = static_cast<unsigned short>(code.size());
    fprog.filter = code.data();
    if (setsockopt(recvFd_, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
      ThrowErrno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
      return false;
    }
    return true;
  }

  // Stops reading and closes both sockets. Safe to call twice; the poll handle is freed by libuv.
  void Shutdown() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), FreePoll);
      poll_ = nullptr;
    }
    CloseFds();
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    VrrpSocket* self = static_cast<VrrpSocket*>(handle->data);
    if (self == nullptr) return;
    // status < 0 (POLLERR): reading collects and clears the socket error, so read anyway.
    (void)status;
    self->Drain();
  }

  void Drain() {
    Napi::HandleScope scope(env_);
    struct mmsghdr msgs[kBatch];
    struct iovec iovs[kBatch];
    for (int round = 0; round < kBatchesPerEvent && open_; round++) {
      memset(msgs, 0, sizeof(msgs));
      const size_t headroom = family_ == 6 ? kIpv6Header : 0;
      for (int i = 0; i < kBatch; i++) {
        iovs[i].iov_base = slots_.data() + static_cast<size_t>(i) * kSlotBytes + headroom;
        iovs[i].iov_len = kSlotBytes - headroom;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (family_ == 6) {
          msgs[i].msg_hdr.msg_name = &names_[i];
          msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
          msgs[i].msg_hdr.msg_control = controls_.data() + static_cast<size_t>(i) * kControlBytes;
          msgs[i].msg_hdr.msg_controllen = kControlBytes;
        }
      }
      int n = recvmmsg(recvFd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        readErrors_++;
        Report(ErrnoError("recvmmsg", errno));
        return;
      }
      if (n == 0) return;
      batches_++;
      size_t total = 0;
      for (int i = 0; i < n; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
        if (family_ == 6) {
          RebuildIpv6Header(msgs[i].msg_hdr, slots_.data() + static_cast<size_t>(i) * kSlotBytes, msgs[i].msg_len);
          msgs[i].msg_len += kIpv6Header;
        }
        total += msgs[i].msg_len;
      }
      Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env_, total);
      Napi::Array lengths = Napi::Array::New(env_);
      size_t offset = 0;
      uint32_t count = 0;
      for (int i = 0; i < n; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
          truncated_++;  // larger than any advert: not VRRP we could answer
          continue;
        }
        memcpy(data.Data() + offset, slots_.data() + static_cast<size_t>(i) * kSlotBytes, msgs[i].msg_len);
        offset += msgs[i].msg_len;
        lengths.Set(count++, Napi::Number::New(env_, msgs[i].msg_len));
      }
      received_ += count;
      if (count > 0) Call(onPackets_, {data, lengths});
      if (n < kBatch) return;  // drained
    }
  }

  // The 40-byte IPv6 header in front of a received payload: version 6, payload length, next header 112,
  // the hop limit the kernel reported (0 if none), source = the peer, destination = IPV6_PKTINFO's.
  static void RebuildIpv6Header(const struct msghdr& hdr, uint8_t* slot, unsigned payloadLength) {
    struct ip6_hdr ip6;
    memset(&ip6, 0, sizeof(ip6));
    ip6.ip6_flow = htonl(6u << 28);
    ip6.ip6_plen = htons(static_cast<uint16_t>(payloadLength));
    ip6.ip6_nxt = IPPROTO_VRRP_NUMBER;
    ip6.ip6_hlim = 0;
    if (hdr.msg_name != nullptr && hdr.msg_namelen >= sizeof(struct sockaddr_in6)) {
      ip6.ip6_src = static_cast<const struct sockaddr_in6*>(hdr.msg_name)->sin6_addr;
    }
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(const_cast<struct msghdr*>(&hdr), c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int hops;
        memcpy(&hops, CMSG_DATA(c), sizeof(hops));
        ip6.ip6_hlim = static_cast<uint8_t>(hops < 0 || hops > 255 ? 0 : hops);
      } else if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
        struct in6_pktinfo info;
        memcpy(&info, CMSG_DATA(c), sizeof(info));
        ip6.ip6_dst = info.ipi6_addr;
      }
    }
    memcpy(slot, &ip6, sizeof(ip6));
  }

  Napi::Error ErrnoError(const char* syscall, int err) {
    std::string message = std::string(syscall) + " failed: " + strerror(err);
    Napi::Error error = Napi::Error::New(env_, message);
    error.Set("errno", Napi::Number::New(env_, err));
    error.Set("code", Napi::String::New(env_, ErrnoCode(err)));
    error.Set("syscall", Napi::String::New(env_, syscall));
    return error;
  }

  void Report(Napi::Error error) { Call(onError_, {error.Value()}); }

  // A JS callback from the event loop; what it throws goes to 'uncaughtException', as for any event handler.
  void Call(Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
    if (fn.IsEmpty()) return;
    fn.MakeCallback(Value(), args, *asyncContext_);
    if (env_.IsExceptionPending()) {
      Napi::Error error = env_.GetAndClearPendingException();
      napi_fatal_exception(env_, error.Value());
    }
  }

  // send(packet: Buffer, dstIp: string, srcIp?: string) -> bytes; throws an errno error when the kernel
  // refuses it. IPv4: packet is the whole IP packet (our header). IPv6: the VRRP message, from srcIp.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsString()) return ThrowType(env, "send(packet: Buffer, dstIp: string, srcIp?: string)");
    if (!open_ || sendFd_ < 0) return ThrowErrno(env, "sendto", EBADF);
    Napi::Buffer<uint8_t> packet = info[0].As<Napi::Buffer<uint8_t>>();
    if (family_ == 6) return Send6(info, packet);
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    if (!ParseIpv4(info[1].As<Napi::String>().Utf8Value(), &dst.sin_addr)) return ThrowType(env, "dstIp must be an IPv4 address");
    ssize_t sent = sendto(sendFd_, packet.Data(), packet.Length(), MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&dst), sizeof(dst));
    if (sent < 0) return ThrowErrno(env, "sendto", errno);
    return Napi::Number::New(env, static_cast<double>(sent));
  }

  Napi::Value Send6(const Napi::CallbackInfo& info, Napi::Buffer<uint8_t> packet) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[2].IsString()) return ThrowType(env, "send(message: Buffer, dstIp: string, srcIp: string) on an IPv6 socket");
    struct sockaddr_in6 dst;
    memset(&dst, 0, sizeof(dst));
    dst.sin6_family = AF_INET6;
    dst.sin6_scope_id = static_cast<uint32_t>(ifindex_);  // used for link-local and multicast destinations
    if (!ParseIpv6(info[1].As<Napi::String>().Utf8Value(), &dst.sin6_addr)) return ThrowType(env, "dstIp must be an IPv6 address");
    struct in6_pktinfo pktinfo;
    memset(&pktinfo, 0, sizeof(pktinfo));
    if (!ParseIpv6(info[2].As<Napi::String>().Utf8Value(), &pktinfo.ipi6_addr)) return ThrowType(env, "srcIp must be an IPv6 address");
    pktinfo.ipi6_ifindex = static_cast<unsigned>(ifindex_);
    alignas(struct cmsghdr) uint8_t control[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    memset(control, 0, sizeof(control));
    struct iovec iov = {packet.Data(), packet.Length()};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_name = &dst;
    msg.msg_namelen = sizeof(dst);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(pktinfo));
    memcpy(CMSG_DATA(c), &pktinfo, sizeof(pktinfo));
    ssize_t sent = sendmsg(sendFd_, &msg, MSG_DONTWAIT);
    if (sent < 0) return ThrowErrno(env, "sendmsg", errno);
    return Napi::Number::New(env, static_cast<double>(sent));
  }

  // setFilter(program: Buffer): replaces the receive filter (atomically, in the kernel).
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) return ThrowType(env, "setFilter(program: Buffer)");
    if (!open_) return ThrowErrno(env, "setsockopt", EBADF);
    AttachFilter(env, info[0].As<Napi::Buffer<uint8_t>>());
    return env.Undefined();
  }

  // stats() -> { received, batches, truncated, readErrors, drops } (drops: the kernel's count of packets
  // that passed the filter but found the receive buffer full, SK_MEMINFO_DROPS).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("received", Napi::Number::New(env, static_cast<double>(received_)));
    out.Set("batches", Napi::Number::New(env, static_cast<double>(batches_)));
    out.Set("truncated", Napi::Number::New(env, static_cast<double>(truncated_)));
    out.Set("readErrors", Napi::Number::New(env, static_cast<double>(readErrors_)));
    uint32_t meminfo[SK_MEMINFO_VARS];
    socklen_t len = sizeof(meminfo);
    memset(meminfo, 0, sizeof(meminfo));
    if (open_ && getsockopt(recvFd_, SOL_SOCKET, SO_MEMINFO, meminfo, &len) == 0 && len > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
      lastDrops_ = meminfo[SK_MEMINFO_DROPS];
    }
    out.Set("drops", Napi::Number::New(env, static_cast<double>(lastDrops_)));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (open_) {
      open_ = false;
      Shutdown();
      onPackets_.Reset();
      onError_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Env env_;
  int family_ = 4;
  int ifindex_ = 0;
  int recvFd_ = -1;
  int sendFd_ = -1;
  bool open_ = false;
  uv_poll_t* poll_ = nullptr;
  std::vector<uint8_t> slots_;
  std::vector<uint8_t> controls_;
  std::vector<struct sockaddr_in6> names_;
  Napi::FunctionReference onPackets_;
  Napi::FunctionReference onError_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  uint64_t received_ = 0;
  uint64_t batches_ = 0;
  uint64_t truncated_ = 0;
  uint64_t readErrors_ = 0;
  uint32_t lastDrops_ = 0;
};

// lockFile(fd): F_OFD_SETLK write lock on the whole file, as keepalived locks its pid files
// (core/pidfile.c), so tslvsd and keepalived refuse each other's pid file too. true = locked by us,
// false = another open file description holds it (EAGAIN/EACCES); other errors throw. The lock lives
// as long as the descriptor: a kill -9 releases it, so a stale pid file never blocks a restart.
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "lockFile(fd)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  int ret;
  while ((ret = fcntl(fd, F_OFD_SETLK, &fl)) == -1 && errno == EINTR) {
  }
  if (ret == 0) return Napi::Boolean::New(env, true);
  if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, "fcntl(F_OFD_SETLK)", errno);
}

// setSchedulingSlice(ns): the calling thread's EEVDF slice (sched_setattr's sched_runtime for a
// SCHED_OTHER thread, Linux 6.12 and later), its policy and nice kept. A thread with a slice shorter than
// the others' may preempt them when it wakes (the scheduler's PREEMPT_SHORT): the VRRP thread, asleep
// between adverts, then runs when its timer fires instead of waiting out the running thread's slice (on
// a 2-core host under 10,000 checks/s, main-thread stalls over 2 ms: 4x fewer at 100 us). With
// SCHED_FLAG_RESET_ON_FORK: threads and processes started afterwards (the checker thread, scripts) get
// the kernel's defaults, not this. Returns the slice the kernel reports afterwards; 0 = this kernel has
// no custom slices (older kernels ignore the field). Throws on a refused call.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

Napi::Value SetSchedulingSlice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setSchedulingSlice(ns)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double ns = info[0].As<Napi::Number>().DoubleValue();
  SchedAttr attr;
  memset(&attr, 0, sizeof attr);
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return ThrowErrno(env, "sched_getattr", errno);
  // Only a fair-class thread's slice is set; a real-time or deadline policy someone chose stays as it is.
  if (attr.sched_policy != 0 /* SCHED_OTHER */) return Napi::Number::New(env, 0);
  attr.size = sizeof attr;
  attr.sched_flags = 0x01;  // SCHED_FLAG_RESET_ON_FORK
  attr.sched_runtime = ns > 0 ? static_cast<uint64_t>(ns) : 0;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return ThrowErrno(env, "sched_setattr", errno);
  memset(&attr, 0, sizeof attr);
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return ThrowErrno(env, "sched_getattr", errno);
  return Napi::Number::New(env, static_cast<double>(attr.sched_runtime));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("lockFile", Napi::Function::New(env, LockFile, "lockFile"));
  exports.Set("sendFrame", Napi::Function::New(env, SendFrame, "sendFrame"));
  exports.Set("setSchedulingSlice", Napi::Function::New(env, SetSchedulingSlice, "setSchedulingSlice"));
  exports.Set("sendUnixDatagram", Napi::Function::New(env, SendUnixDatagram, "sendUnixDatagram"));
  exports.Set("VrrpSocket", VrrpSocket::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tslvsd_native, Init)
