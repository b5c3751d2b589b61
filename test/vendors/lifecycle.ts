/** Shared plumbing of the local vendor stand-ins: connection tracking (for "down" and fast close) and listening. */
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Tracks open sockets; while `isDown()` new connections are reset, as an unreachable vendor would. */
export function trackConnections(server: Server, isDown: () => boolean): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    if (isDown()) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return sockets;
}

/** Listens on 127.0.0.1 (a fixed port for the local stack, 0 for a free one) and returns the port. */
export async function listenLocal(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Drops kept-alive connections so close() does not wait for their idle timeout. */
export async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
