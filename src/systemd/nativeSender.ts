import { nativeAddon } from '../net/nativeAddon.js';
import type { DatagramSender } from './notify.js';

/** The production DatagramSender: the project's addon, loaded only when a datagram is actually sent. */
export const nativeDatagramSender: DatagramSender = {
  sendUnixDatagram: (socketPath, message) => nativeAddon().sendUnixDatagram(socketPath, message),
};
