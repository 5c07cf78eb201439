/** `ridgeline serve`: the explorer app and a runs folder over local HTTP (runtimes/browser/serve.ts). */
import { RidgelineError } from '../../core/errors.ts';
import { type Command, optionOr } from '../command.ts';
import { appFiles, runsFolder } from './app_files.ts';

export const serveCommand: Command = {
  summary: 'serve the explorer app: browse the runs under a folder, measure barriers of dropped-in checkpoints, run forks in the browser',
  options: [
    { name: 'runs', value: 'DIR', help: 'the runs folder to list', default: 'runs' },
    { name: 'port', value: 'N', help: 'TCP port (0: any free port)', default: '8470' },
    { name: 'host', value: 'H', help: 'address to bind; anything but loopback exposes your runs to the network', default: '127.0.0.1' },
  ],
  notes:
    'Only the app, the runs folder and the bundled MNIST digits are served; paths leaving them, symlinks out of them and requests addressed to another host name are refused. Ctrl-C stops the server.',
  async run(opts, host) {
    const port = Number(optionOr(serveCommand, opts, 'port'));
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RidgelineError('E_SPEC', `serve: --port must be an integer in 0…65535, got '${opts.port}'`);
    }
    const runsDir = await runsFolder('serve', optionOr(serveCommand, opts, 'runs'));
    const { appRoot, mnistDir } = await appFiles(host, 'serve');
    // Loaded here, not at the top: node:http is only needed by this command.
    const { serveApp } = await import('../browser/serve.ts');
    let server;
    try {
      server = await serveApp({ appRoot, runsDir, mnistDir, host: optionOr(serveCommand, opts, 'host'), port });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new RidgelineError(
        'E_IO',
        `serve: cannot listen on ${opts.host ?? '127.0.0.1'}:${port}: ${
          err.code === 'EADDRINUSE'
            ? 'the port is in use (try --port 0)'
            : err.code === 'EADDRNOTAVAIL'
            ? 'no such local address'
            : err.message
        }`,
      );
    }
    host.print(`ridgeline explorer: ${server.url}  (runs from ${runsDir}; Ctrl-C stops it)`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    await server.close();
    return 0;
  },
};
