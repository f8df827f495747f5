// tslvsd's own N-API addon: the two sends Node cannot do itself.
//  - sendFrame(ifindex, frame): a complete Ethernet frame out of one interface over AF_PACKET/SOCK_RAW
//    (gratuitous ARP on the failover path, where spawning arping is not an option).
//  - sendUnixDatagram(path, message): one AF_UNIX datagram (systemd's NOTIFY_SOCKET; "@name" = abstract).
// Errors come back as thrown JS errors carrying `errno` and `code`; nothing here aborts the process.
#include <napi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <string>

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sendFrame", Napi::Function::New(env, SendFrame, "sendFrame"));
  exports.Set("sendUnixDatagram", Napi::Function::New(env, SendUnixDatagram, "sendUnixDatagram"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tslvsd_native, Init)
