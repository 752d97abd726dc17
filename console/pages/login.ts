// The sign-in page: a name and password set by an admin, or an operator token.
import { html, type SafeHtml } from '../html.ts';
import { bare } from './layout.ts';

export function loginPage(csrf: string, next: string, error?: string): SafeHtml {
  return bare(
    'Sign in',
    html`<div class="login"><h1>Whistle</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/login" class="card">
  <input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
  <label>Name <input name="name" autocomplete="username" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button type="submit" class="primary" data-testid="sign-in">Sign in</button>
  <details><summary>Sign in with an operator token instead</summary>
    <label>Operator token <input name="token" type="password" autocomplete="off"></label></details>
</form></div>`,
  );
}

export function errorPage(status: number, message: string, signedIn: boolean): SafeHtml {
  return bare(
    `${status}`,
    html`<div class="login"><h1>${status}</h1><p class="error" role="alert">${message}</p>
<p>${signedIn ? html`<a href="/console/">Back to the fleet</a>` : html`<a href="/console/login">Sign in</a>`}</p></div>`,
  );
}
