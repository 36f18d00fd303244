// The project's fixed vocabularies, each written once as an `as const` list: the wire schemas, the coordinator,
// the simulator and the UI all import these, so a name cannot exist in one place and be refused in another.

/**
 * Federated strategies a federation may be created with (src/fl/strategies implements each; 'sum' adds tokens).
 * 'mean-pool' and 'abmil' learn from slide labels (a slide = the bag of its tile tokens), the others from tiles.
 */
export const STRATEGY_NAMES = ['sum', 'fedavg-head', 'prototypes', 'ridge', 'mean-pool', 'abmil'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
export const SLIDE_STRATEGY_NAMES = ['mean-pool', 'abmil'] as const satisfies readonly StrategyName[];
export type SlideStrategyName = (typeof SLIDE_STRATEGY_NAMES)[number];
/** The tile strategies that learn a linear head (src/fl/strategies createStrategy): all but 'sum' and the slide ones. */
export const TILE_STRATEGY_NAMES = ['fedavg-head', 'prototypes', 'ridge'] as const satisfies readonly StrategyName[];
export type TileStrategyName = (typeof TILE_STRATEGY_NAMES)[number];

/** CKKS parameter presets (src/he/params.ts holds their parameters). */
export const PRESET_IDS = ['agg-v1', 'agg-wide-v1', 'inf-v1'] as const;
export type PresetId = (typeof PRESET_IDS)[number];

/** The presets a federation's rounds may aggregate under. */
export const AGGREGATION_PRESET_IDS = ['agg-v1', 'agg-wide-v1'] as const satisfies readonly PresetId[];
export type AggregationPresetId = (typeof AGGREGATION_PRESET_IDS)[number];

/**
 * Tile and slide classes, in the order every clinic of a federation uses for heads and logits (LC25000 lung
 * folders: lung_aca/, lung_n/, lung_scc/).
 */
export const CLASS_LABELS = ['lung_aca', 'lung_n', 'lung_scc'] as const;
export type ClassLabel = (typeof CLASS_LABELS)[number];
export const CLASS_NAMES: Readonly<Record<ClassLabel, string>> = {
  lung_aca: 'adenocarcinoma',
  lung_n: 'benign tissue',
  lung_scc: 'squamous cell carcinoma',
};

/** tfjs backends, in the order the ViT tries them. */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const isOneOf = <T extends string>(list: readonly T[], value: unknown): value is T => typeof value === 'string' && (list as readonly string[]).includes(value);

/** Steps of a key relay at the coordinator (src/custody/README.md): commit → response → reveal → wrap → accept. */
export const KEY_RELAY_STATUSES = ['committed', 'responded', 'revealed', 'wrapped', 'accepted', 'aborted'] as const;
export type KeyRelayStatus = (typeof KEY_RELAY_STATUSES)[number];

/** Why a clinic aborted a key relay; every abort is audited at the coordinator. */
export const KEY_RELAY_ABORT_REASONS = ['code-mismatch', 'commitment-mismatch', 'transcript-mismatch', 'cancelled'] as const;
export type KeyRelayAbortReason = (typeof KEY_RELAY_ABORT_REASONS)[number];
