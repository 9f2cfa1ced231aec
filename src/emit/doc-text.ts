/**
 * Compose a JSDoc text: the proto comment, a summary of what was generated,
 * provenance and deprecation. Paragraphs are separated by blank lines.
 */
export function docText(parts: {
  comment?: string | undefined;
  summary?: string | undefined;
  generatedFrom: string;
  deprecated?: boolean;
}): string {
  const paragraphs: string[] = [];
  if (parts.comment !== undefined && parts.comment !== "") paragraphs.push(parts.comment);
  if (parts.summary !== undefined) paragraphs.push(parts.summary);
  const tags = [`@generated from ${parts.generatedFrom}`];
  if (parts.deprecated === true) tags.push("@deprecated");
  paragraphs.push(tags.join("\n"));
  return paragraphs.join("\n\n");
}
