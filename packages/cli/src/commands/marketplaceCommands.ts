import { formatAmount, parseAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { sdkClient } from '../sdkClient.js';
import { flag, intOption, stringOption } from './commandHelpers.js';

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

/** `aitbc marketplace …`: offers (miners’ capacity and price), bids, matching. */
export const MARKETPLACE_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'marketplace',
    name: 'offers',
    summary: 'list offers: registered miners’ capacity and price (pool hub)',
    args: [],
    options: [
      { name: 'all', type: 'boolean', description: 'include offline miners' },
      { name: 'kind', type: 'string', valueName: '<kind>', description: 'only miners that run this job kind' },
    ],
    examples: [{ command: 'aitbc marketplace offers --kind hash', description: 'who sells hash jobs, at what price' }],
    status: 'wired',
    async handler(ctx) {
      const kind = stringOption(ctx, 'kind');
      const miners = (
        await (await sdkClient(ctx)).pool.miners({ signal: ctx.signal, ...(flag(ctx, 'all') ? {} : { online: true }) })
      ).filter((m) => kind === undefined || m.capabilities.job_kinds.includes(kind));
      const offers = miners.map((m) => ({
        miner_id: m.miner_id,
        address: m.address,
        price_per_unit: m.price_per_unit,
        max_concurrency: m.max_concurrency,
        active_jobs: m.status.active_jobs,
        job_kinds: m.capabilities.job_kinds,
        gpus: m.capabilities.gpus ?? [],
        models: m.capabilities.models ?? [],
        region: m.capabilities.region ?? null,
        online: m.status.online,
      }));
      ctx.out.table(offers, [
        { header: 'MINER', value: (o) => o.miner_id },
        { header: 'PRICE/UNIT', value: (o) => formatAmount(BigInt(o.price_per_unit)) },
        { header: 'FREE', value: (o) => `${Math.max(0, o.max_concurrency - o.active_jobs)}/${o.max_concurrency}` },
        { header: 'KINDS', value: (o) => o.job_kinds.join(',') },
        { header: 'GPUS', value: (o) => o.gpus.map((g) => `${g.model} ${g.vram_gb}GB`).join(',') || '-' },
        { header: 'REGION', value: (o) => o.region ?? '-' },
        { header: 'ONLINE', value: (o) => (o.online ? 'yes' : 'no') },
      ]);
    },
  },
  {
    group: 'marketplace',
    name: 'bids',
    summary: 'list open bids: clients’ demand and max price',
    args: [],
    options: [{ name: 'kind', type: 'string', valueName: '<kind>', description: 'only bids for this job kind' }],
    examples: [{ command: 'aitbc marketplace bids --kind llm.generate', description: 'demand for LLM jobs' }],
    status: 'waiting',
    waitingFor: 'a coordinator marketplace bids route (DESIGN.md §5) and its SDK call',
    async handler() {},
  },
  {
    group: 'marketplace',
    name: 'match',
    summary: 'rank miners for a job’s requirements, with score explanations',
    args: [],
    options: [
      { name: 'kind', short: 'k', type: 'string', valueName: '<kind>', required: true, description: 'job kind' },
      { name: 'models', type: 'string', valueName: '<list>', description: 'required models, comma-separated' },
      { name: 'min-vram', type: 'string', valueName: '<GB>', description: 'minimum GPU memory' },
      { name: 'region', type: 'string', valueName: '<region>', description: 'preferred region' },
      { name: 'max-price-per-unit', type: 'string', valueName: '<amount>', description: 'highest price per unit' },
      { name: 'top', type: 'string', valueName: '<n>', description: 'how many candidates (default 5)' },
      { name: 'explain', type: 'boolean', description: 'show every scoring term' },
    ],
    examples: [
      { command: 'aitbc marketplace match --kind hash --top 3', description: 'the three best miners for a hash job' },
      {
        command: 'aitbc marketplace match -k llm.generate --models llama3 --min-vram 24 --explain',
        description: 'why each miner ranks where it does',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const maxPrice = stringOption(ctx, 'max-price-per-unit');
      const vram = intOption(ctx, 'min-vram', 1, 10_000);
      const models = list(stringOption(ctx, 'models'));
      const region = stringOption(ctx, 'region');
      const result = await (await sdkClient(ctx)).pool.match(
        {
          requirements: {
            job_kind: stringOption(ctx, 'kind')!,
            ...(models !== undefined ? { models } : {}),
            ...(vram !== undefined ? { min_vram_gb: vram } : {}),
            ...(maxPrice !== undefined ? { max_price_per_unit: parseAmount(maxPrice).toString() } : {}),
          },
          ...(region !== undefined ? { hints: { region } } : {}),
          top_k: intOption(ctx, 'top', 1, 100) ?? 5,
        },
        { signal: ctx.signal },
      );
      if (ctx.out.json) return ctx.out.result(result);
      if (result.candidates.length === 0) {
        ctx.out.result(
          `no miner matches (${result.eligible} eligible of ${result.online} online); relax the requirements or see \`aitbc marketplace offers --all\``,
        );
        return;
      }
      ctx.out.table(result.candidates, [
        { header: 'MINER', value: (c) => c.miner_id },
        { header: 'SCORE', value: (c) => c.score.toFixed(3) },
        { header: 'PRICE/UNIT', value: (c) => formatAmount(BigInt(c.price_per_unit)) },
        ...(flag(ctx, 'explain')
          ? [
              {
                header: 'WHY',
                value: (c: (typeof result.candidates)[number]) =>
                  Object.entries(c.explanation)
                    .map(([k, t]) => `${k}=${t.contribution.toFixed(2)} (${t.reason})`)
                    .join('; '),
              },
            ]
          : [{ header: 'ADDRESS', value: (c: (typeof result.candidates)[number]) => c.address }]),
      ]);
      ctx.out.note(`${result.eligible} eligible of ${result.online} online`);
    },
  },
];
