import type { MarketBid } from '@aitbc/sdk';
import { formatAmount, parseAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { usageError } from '../parseCommandLine.js';
import { sdkClient } from '../sdkClient.js';
import { flag, intOption, secondsOption, stringOption } from './commandHelpers.js';

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

const optional = <K extends string>(key: K, v: string | undefined) =>
  (v === undefined ? {} : { [key]: v }) as Partial<Record<K, string>>;

/** A bid as `key value` lines. */
function bidLines(b: MarketBid): string {
  const rows: [string, string][] = [
    ['bid', b.bid_id],
    ['kind', b.job_kind],
    ['max price/unit', formatAmount(BigInt(b.max_price_per_unit))],
    ['quantity', String(b.quantity)],
    ['filled', String(b.filled)],
    ['used', String(b.used)],
    ['state', b.state],
    ...b.matches.map((m): [string, string] => [
      'match',
      `${m.match_id} ${m.miner_id} at ${formatAmount(BigInt(m.price_per_unit))} × ${m.quantity}`,
    ]),
  ];
  return rows.map(([k, v]) => `${k.padEnd(15)}${v}`).join('\n');
}

/** `aitbc marketplace …`: offers (miners’ capacity and price), bids, matching. */
export const MARKETPLACE_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'marketplace',
    name: 'offers',
    summary: 'list open marketplace offers at the coordinator: miners’ slots and price',
    description:
      'Offers are placed by miners (`POST /v1/marketplace/offers`); bids are matched against them. The pool hub’s view of registered miners is `aitbc marketplace miners`.',
    args: [],
    options: [
      { name: 'kind', type: 'string', valueName: '<kind>', description: 'only offers for this job kind' },
      { name: 'miner', type: 'string', valueName: '<minerId>', description: 'only this miner’s offers' },
      { name: 'model', type: 'string', valueName: '<model>', description: 'only offers with this model' },
      { name: 'region', type: 'string', valueName: '<region>', description: 'only offers in this region' },
      { name: 'max-price-per-unit', type: 'string', valueName: '<amount>', description: 'highest price per unit' },
      { name: 'limit', type: 'string', valueName: '<n>', description: 'at most n offers (default 100)' },
    ],
    examples: [{ command: 'aitbc marketplace offers --kind hash', description: 'who sells hash jobs, at what price' }],
    status: 'wired',
    async handler(ctx) {
      const maxPrice = stringOption(ctx, 'max-price-per-unit');
      const filter = {
        ...optional('jobKind', stringOption(ctx, 'kind')),
        ...optional('minerId', stringOption(ctx, 'miner')),
        ...optional('model', stringOption(ctx, 'model')),
        ...optional('region', stringOption(ctx, 'region')),
        ...(maxPrice !== undefined ? { maxPricePerUnit: parseAmount(maxPrice) } : {}),
      };
      const max = intOption(ctx, 'limit', 1, 10_000) ?? 100;
      const offers = [];
      for await (const o of (await sdkClient(ctx)).coordinator.market.offers(filter, {
        signal: ctx.signal,
        maxItems: max,
        limit: Math.min(max, 100),
      }))
        offers.push(o);
      ctx.out.table(offers, [
        { header: 'OFFER', value: (o) => o.offer_id },
        { header: 'MINER', value: (o) => o.miner_id },
        { header: 'PRICE/UNIT', value: (o) => formatAmount(BigInt(o.price_per_unit)) },
        { header: 'FREE', value: (o) => `${o.available}/${o.slots}` },
        { header: 'KINDS', value: (o) => o.job_kinds.join(',') },
        { header: 'MODELS', value: (o) => o.models.join(',') || '-' },
        { header: 'REGION', value: (o) => o.region },
      ]);
    },
  },
  {
    group: 'marketplace',
    name: 'miners',
    summary: 'registered miners’ capacity and price as the pool hub sees them',
    args: [],
    options: [
      { name: 'all', type: 'boolean', description: 'include offline miners' },
      { name: 'kind', type: 'string', valueName: '<kind>', description: 'only miners that run this job kind' },
    ],
    examples: [
      { command: 'aitbc marketplace miners --kind hash', description: 'which registered miners run hash jobs' },
    ],
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
    summary: 'list open bids (clients’ demand and max price); place or cancel your own',
    description:
      '`bids` (or `bids list`) lists open bids (public); `bids place --kind <k> --max-price-per-unit <a> --quantity <n>` places a bid (role client, matched at once against open offers); `bids show <bidId>` shows your bid with its matches; `bids cancel <bidId>` cancels it. Run jobs under a matched bid with `aitbc client submit --bid <bidId>`.',
    args: [
      {
        name: 'action',
        description: 'list (default), place, show or cancel',
        required: false,
        choices: ['list', 'place', 'show', 'cancel'],
      },
      { name: 'bidId', description: 'the bid (show, cancel)', required: false },
    ],
    options: [
      { name: 'kind', type: 'string', valueName: '<kind>', description: 'job kind (list: filter; place: required)' },
      {
        name: 'max-price-per-unit',
        type: 'string',
        valueName: '<amount>',
        description: 'place: highest price per unit',
      },
      { name: 'quantity', type: 'string', valueName: '<n>', description: 'place: jobs wanted (default 1)' },
      { name: 'models', type: 'string', valueName: '<list>', description: 'place: required models, comma-separated' },
      { name: 'min-vram', type: 'string', valueName: '<GB>', description: 'place: minimum GPU memory' },
      { name: 'ttl', type: 'string', valueName: '<seconds>', description: 'place: how long the bid stays open' },
      { name: 'limit', type: 'string', valueName: '<n>', description: 'list: at most n bids (default 100)' },
    ],
    examples: [
      { command: 'aitbc marketplace bids --kind llm.generate', description: 'demand for LLM jobs' },
      {
        command: 'aitbc marketplace bids place --kind hash --max-price-per-unit 0.01 --quantity 5',
        description: 'buy five hash jobs at most 0.01 AIT per unit',
      },
      { command: 'aitbc marketplace bids cancel bid_9f…', description: 'cancel your bid' },
    ],
    status: 'wired',
    async handler(ctx) {
      const market = (await sdkClient(ctx)).coordinator.market;
      const action = ctx.args.action ?? 'list';
      const bidId = ctx.args.bidId;
      const call = { signal: ctx.signal };
      if (action === 'show' || action === 'cancel') {
        if (bidId === undefined)
          throw usageError(`\`bids ${action}\` needs a <bidId>`, `aitbc marketplace bids ${action} bid_…`);
        const bid = action === 'show' ? await market.bid(bidId, call) : await market.cancelBid(bidId, call);
        if (ctx.out.json) return ctx.out.result(bid);
        ctx.out.result(bidLines(bid));
        return;
      }
      if (bidId !== undefined) throw usageError(`\`bids ${action}\` takes no <bidId>`, 'aitbc help marketplace bids');
      if (action === 'place') {
        const kind = stringOption(ctx, 'kind');
        const maxPrice = stringOption(ctx, 'max-price-per-unit');
        if (kind === undefined || maxPrice === undefined)
          throw usageError(
            '`bids place` needs --kind and --max-price-per-unit',
            'aitbc marketplace bids place --kind hash --max-price-per-unit 0.01',
          );
        const models = list(stringOption(ctx, 'models'));
        const vram = intOption(ctx, 'min-vram', 1, 10_000);
        const ttlMs = secondsOption(ctx, 'ttl', 30 * 24 * 3600);
        const placed = await market.placeBid(
          {
            jobKind: kind,
            maxPricePerUnit: parseAmount(maxPrice),
            quantity: intOption(ctx, 'quantity', 1, 1_000_000) ?? 1,
            ...(models !== undefined || vram !== undefined
              ? {
                  requirements: {
                    ...(models !== undefined ? { models } : {}),
                    ...(vram !== undefined ? { min_vram_gb: vram } : {}),
                  },
                }
              : {}),
            ...(ttlMs !== undefined ? { ttlMs } : {}),
          },
          call,
        );
        if (ctx.out.json) return ctx.out.result(placed);
        ctx.out.result(bidLines(placed.bid));
        ctx.out.note(
          placed.matches.length === 0
            ? 'no offer matched yet: the bid stays open until one does'
            : `run jobs under it: aitbc client submit --bid ${placed.bid.bid_id} …`,
        );
        return;
      }
      const kind = stringOption(ctx, 'kind');
      const max = intOption(ctx, 'limit', 1, 10_000) ?? 100;
      const bids = [];
      for await (const b of market.bids(kind !== undefined ? { jobKind: kind } : {}, {
        ...call,
        maxItems: max,
        limit: Math.min(max, 100),
      }))
        bids.push(b);
      ctx.out.table(bids, [
        { header: 'BID', value: (b) => b.bid_id },
        { header: 'KIND', value: (b) => b.job_kind },
        { header: 'MAX PRICE/UNIT', value: (b) => formatAmount(BigInt(b.max_price_per_unit)) },
        { header: 'FILLED', value: (b) => `${b.filled}/${b.quantity}` },
        { header: 'STATE', value: (b) => b.state },
      ]);
    },
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
