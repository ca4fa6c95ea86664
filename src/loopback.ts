// One rule for "this host is this machine", shared by the registry client (plain http to a
// loopback registry, as the engine allows) and the release-data reader (plain http to loopback only).

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1';
}
