/**
 * A tiny model server on 127.0.0.1 that speaks the two protocols the llm.generate runner uses —
 * Ollama (`/api/generate`, `/api/tags`) and OpenAI-compatible (`/v1/completions`, `/v1/models`) — with
 * a deterministic "model" that answers `echo: <prompt>` (tokens = words). A real HTTP server, for
 * runner and agent tests.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** The running server: its URL, the requests it saw, and stop(). */
export interface LlmServer {
  readonly url: string;
  readonly requests: { path: string; body: unknown; authorization: string | undefined }[];
  stop(): Promise<void>;
}

const MODELS = ['tiny-echo:1b', 'tiny-echo:3b'];
const words = (s: string) => s.split(/\s+/).filter((w) => w.length > 0).length;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : JSON.parse(text);
}

/** Starts the server; `delayMs` delays every generation (for cancel tests). */
export async function startLlmServer(options: { delayMs?: number; apiKey?: string } = {}): Promise<LlmServer> {
  const requests: LlmServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = (await readJson(req).catch(() => undefined)) as Record<string, unknown> | undefined;
      requests.push({ path: req.url ?? '', body, authorization: req.headers.authorization });
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (
        options.apiKey !== undefined &&
        req.url?.startsWith('/v1/') &&
        req.headers.authorization !== `Bearer ${options.apiKey}`
      ) {
        return send(401, { error: { message: 'invalid api key', type: 'invalid_request_error' } });
      }
      if (req.method === 'GET' && req.url === '/api/tags')
        return send(200, { models: MODELS.map((name) => ({ name })) });
      if (req.method === 'GET' && req.url === '/v1/models')
        return send(200, { object: 'list', data: MODELS.map((id) => ({ id, object: 'model' })) });
      if (req.method === 'POST' && (req.url === '/api/generate' || req.url === '/v1/completions')) {
        const model = body?.model;
        const prompt = String(body?.prompt ?? '');
        if (typeof model !== 'string' || !MODELS.includes(model)) {
          return req.url === '/api/generate'
            ? send(404, { error: `model '${String(model)}' not found, try pulling it first` })
            : send(404, {
                error: { message: `The model '${String(model)}' does not exist`, type: 'invalid_request_error' },
              });
        }
        if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs));
        const text = `echo: ${prompt}`;
        if (req.url === '/api/generate') {
          return send(200, {
            model,
            response: text,
            done: true,
            prompt_eval_count: words(prompt),
            eval_count: words(text),
          });
        }
        return send(200, {
          object: 'text_completion',
          model,
          choices: [{ index: 0, text, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: words(prompt),
            completion_tokens: words(text),
            total_tokens: words(prompt) + words(text),
          },
        });
      }
      send(404, { error: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
