import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from './html.ts';

describe('html``', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const name = `<img src=x onerror="alert(1)">'&\``;
    expect(html`<p title="${name}">${name}</p>`.html).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;</p>',
    );
  });

  it('nests html`` results without escaping them twice, and escapes inside them', () => {
    const rows = ['a<b', 'c&d'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${rows}</ul>`.html).toBe('<ul><li>a&lt;b</li><li>c&amp;d</li></ul>');
  });

  it('renders nothing for null, undefined and false, and numbers as text', () => {
    expect(html`${null}${undefined}${false}${0}${12.5}`.html).toBe('012.5');
  });

  it('passes raw() markup through and does not trust lookalike objects', () => {
    expect(html`${raw('<b>x</b>')}`.html).toBe('<b>x</b>');
    expect(html`${{ html: '<b>x</b>', toString: () => '<b>x</b>' }}`.html).toBe('&lt;b&gt;x&lt;/b&gt;');
  });

  it('escapeHtml leaves plain text alone', () => {
    expect(escapeHtml('prod-eu-1 / node 3')).toBe('prod-eu-1 / node 3');
  });
});
