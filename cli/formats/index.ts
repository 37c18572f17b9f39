import type { FindingLine } from '../replay';
import { toAsff } from './asff';
import { toCsv } from './csv';
import { toMarkdown } from './markdown';
import { toOcsf } from './ocsf';
import { toSarif } from './sarif';
import type { DocumentFormat } from './names';

export { FORMATS, type Format, type DocumentFormat } from './names';

/** What a document says about the run besides its findings. */
export interface RunContext {
  /** Rampart's version (package.json). */
  version: string;
  /** When the run happened (documents' own timestamps; findings carry their event's time). */
  now: Date;
  /** The policy file the findings were judged against (SARIF points at it). */
  policyFile: string;
  /** The home region, for a finding whose event does not say. */
  region?: string;
  /** The account, for a finding whose event does not say. */
  account?: string;
}

/** A document and what could not go in it (an ASFF finding needs an account), said on stderr. */
export interface RenderedDocument {
  text: string;
  warnings: string[];
}

export function renderDocument(format: DocumentFormat, findings: readonly FindingLine[], context: RunContext): RenderedDocument {
  switch (format) {
    case 'sarif':
      return { text: JSON.stringify(toSarif(findings, context), null, 2), warnings: [] };
    case 'ocsf':
      return { text: JSON.stringify(toOcsf(findings, context), null, 2), warnings: [] };
    case 'asff': {
      const { document, skipped } = toAsff(findings, context);
      return {
        text: JSON.stringify(document, null, 2),
        warnings: skipped.map(
          (f) => `asff: ${f.control} ${f.resourceArn} left out: its event names no account (ASFF requires AwsAccountId)`,
        ),
      };
    }
    case 'csv':
      return { text: toCsv(findings), warnings: [] };
    case 'markdown':
      return { text: toMarkdown(findings), warnings: [] };
  }
}
