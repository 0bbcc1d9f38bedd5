import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { InputError } from '../errors';

/** A parsed YAML (or JSON) document that can say where any value came from. */
export interface YamlSource {
  path: string;
  doc: Document;
  /** 1-based line of the value at `segments` (falls back to the nearest existing parent). */
  lineOf(segments: readonly (string | number)[]): number;
}

/**
 * Parses YAML (JSON is YAML) keeping positions, so configuration errors can
 * name file, line and field. Syntax errors throw InputError with the line.
 */
export function parseYamlSource(path: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const pos = lineCounter.linePos(firstError.pos[0]);
    throw new InputError('CONFIG_INVALID', `invalid YAML: ${firstError.message.split('\n')[0]}`, {
      location: { file: path, line: pos.line, column: pos.col },
    });
  }
  const nodeAt = (segments: readonly (string | number)[]): unknown => (segments.length === 0 ? doc.contents : doc.getIn(segments, true));
  const lineOf = (segments: readonly (string | number)[]): number => {
    for (let depth = segments.length; depth >= 0; depth--) {
      // A mapping member is located by its key: that is the line a reader looks for.
      const parent = depth > 0 ? nodeAt(segments.slice(0, depth - 1)) : undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === segments[depth - 1]);
        if (pair !== undefined && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
      }
      const node = nodeAt(segments.slice(0, depth));
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  return { path, doc, lineOf };
}
