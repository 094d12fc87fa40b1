// AWS Control Tower's proactive controls, run here as the landing zone's CloudFormation hooks run them: the public
// cfn-guard rules (rules/control-tower of @cdklabs/cdk-validator-cfnguard) by the cfn-guard binary it ships, on
// synthesized templates. One cfn-guard run for every template given (it loads the 200-odd rules once).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const PACKAGE = dirname(createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
export const CONTROL_TOWER_RULES = join(PACKAGE, 'rules', 'control-tower', 'cfn-guard');

/** The binary for this machine, as the package's own plugin picks it. */
export function cfnGuardBinary(): string {
  const os = { linux: 'ubuntu', darwin: 'macos' }[process.platform as string];
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as string];
  if (!os || !arch) throw new Error(`cfn-guard ships no binary for ${process.platform}/${process.arch}`);
  return join(PACKAGE, 'bin', os, arch, 'cfn-guard');
}

/** A failed control: its rule, its Control Tower id (`CT.LAMBDA.PR.3`) and the resources it failed on. */
export interface Finding {
  rule: string;
  control: string;
  resources: string[];
}

/** A hook sees properties with the stack's pseudo parameters resolved; a synthesized template still has them as Refs. */
const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '123456789012',
  'AWS::Region': 'eu-west-1',
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};
export function resolvePseudoParameters(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolvePseudoParameters);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [only] = entries;
  if (entries.length === 1 && only?.[0] === 'Ref' && typeof only[1] === 'string' && only[1] in PSEUDO) {
    return PSEUDO[only[1]];
  }
  return Object.fromEntries(entries.map(([key, inner]) => [key, resolvePseudoParameters(inner)]));
}

interface GuardReport {
  name: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  not_compliant: { Rule: { name: string } }[];
}

/** The failed controls of each template, by the name it was given. */
export function runControlTowerRules(templates: Record<string, unknown>): Record<string, Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), 'control-tower-'));
  try {
    const files = Object.entries(templates).map(([name, template]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(resolvePseudoParameters(template)));
      return { name, file };
    });
    let output: string;
    try {
      output = execFileSync(
        cfnGuardBinary(),
        [
          'validate',
          '--rules',
          CONTROL_TOWER_RULES,
          ...files.flatMap((f) => ['--data', f.file]),
          '--structured',
          '--show-summary',
          'none',
          '--output-format',
          'json',
        ],
        { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (error) {
      // Exit code 19: some rule failed (the report is on stdout). Anything else is cfn-guard failing to run.
      const failed = error as { status?: number; stdout?: string; stderr?: string };
      if (failed.status !== 19 || !failed.stdout) {
        throw new Error(`cfn-guard failed (exit ${failed.status}): ${failed.stderr ?? error}`);
      }
      output = failed.stdout;
    }
    const reports = JSON.parse(output) as GuardReport[];
    const findings: Record<string, Finding[]> = {};
    for (const { name, file } of files) {
      const report = reports.find((r) => r.name === file);
      if (!report) throw new Error(`cfn-guard reported nothing for ${name}`);
      findings[name] = report.not_compliant
        .map(({ Rule }) => {
          const text = JSON.stringify(Rule);
          const control = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(text)?.[1] ?? Rule.name;
          const resources = [...new Set([...text.matchAll(/\/Resources\/([A-Za-z0-9]+)/g)].map((m) => m[1] as string))];
          return { rule: Rule.name, control, resources: resources.sort() };
        })
        .sort((a, b) => a.control.localeCompare(b.control));
    }
    return findings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
