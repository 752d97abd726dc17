// Plain text as an Atlassian Document Format (ADF) document, the rich-text value Jira Cloud's REST
// API v3 takes for descriptions and comments (v3 refuses a string: "Operation value must be an
// Atlassian Document"). Blank lines separate paragraphs; single newlines become hard breaks, so
// the ticket shows the text laid out as the email and the Data Center ticket do.

export interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
}

export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

export function textToAdf(text: string): AdfDoc {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .filter((p) => p.trim() !== '');
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((p) => {
      const content: AdfNode[] = [];
      p.split('\n').forEach((line, i) => {
        if (i > 0) content.push({ type: 'hardBreak' });
        // ADF refuses empty text nodes.
        if (line !== '') content.push({ type: 'text', text: line });
      });
      return { type: 'paragraph', content };
    }),
  };
}
