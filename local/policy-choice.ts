// Which purchase policy `npm start` runs. Against the embedded simulator, allow-all (policies/local/) by default: the
// examples work without naming anyone, and nothing real can be bought. Against a real Partner Center (PARTNER_CENTER_URL
// set) it must be chosen: the deployed policy (policies/*.cedar and entities.json, default deny), or allow-all said
// out loud — never allow-all by default where an order costs money.

export const LOCAL_POLICIES = ['allow-all', 'deployed'] as const;
export type LocalPolicy = (typeof LOCAL_POLICIES)[number];

export function chooseLocalPolicy(env: NodeJS.ProcessEnv, upstream: { simulator: boolean; url?: string }): LocalPolicy {
  const chosen = env.LOCAL_POLICY?.trim() || undefined;
  if (chosen !== undefined && !(LOCAL_POLICIES as readonly string[]).includes(chosen)) {
    throw new Error(`LOCAL_POLICY must be one of ${LOCAL_POLICIES.join(', ')}, got ${chosen}`);
  }
  if (chosen) return chosen as LocalPolicy;
  if (upstream.simulator) return 'allow-all';
  throw new Error(
    `PARTNER_CENTER_URL is set (${upstream.url ?? 'a real Partner Center'}): the local server does not run the allow-all ` +
      'policy against anything but its embedded simulator unless told to. Set LOCAL_POLICY=deployed to judge purchases ' +
      'by policies/*.cedar and policies/entities.json as deployed (name who may buy there), or LOCAL_POLICY=allow-all ' +
      'to let every caller buy anyway (docs/local.md, "Against a real Partner Center").',
  );
}
