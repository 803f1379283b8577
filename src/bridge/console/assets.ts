/**
 * The console's only static files, served by the bridge itself (no CDN: the console works on an
 * office LAN without internet). A fixed table, not a folder: no request path reaches the disk.
 */
export const ASSETS: ReadonlyMap<string, { type: string; body: string }> = new Map([
  [
    '/static/console.css',
    {
      type: 'text/css; charset=utf-8',
      body: `:root{--fg:#1d2733;--muted:#5d6b7a;--line:#d5dce3;--bg:#f6f8fa;--accent:#1a73e8;--ok:#137333;--okbg:#e6f4ea;--err:#a50e0e;--errbg:#fce8e6;--warn:#8a5a00;--warnbg:#fef7e0}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP","Yu Gothic UI",Meiryo,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;justify-content:space-between;align-items:center;padding:.6rem 1.2rem;background:#202a36;color:#fff}
header a{color:#cfe3ff}.brand{font-weight:600}
nav{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap;padding:0 1.2rem;background:#fff;border-bottom:1px solid var(--line)}
nav ul{display:flex;gap:.2rem;list-style:none;margin:0;padding:0}
nav li a{display:block;padding:.7rem .9rem;color:var(--fg);text-decoration:none;border-bottom:3px solid transparent}
nav li a[aria-current=page]{border-color:var(--accent);font-weight:600}
.logout{display:flex;gap:.5rem;align-items:center}.user{color:var(--muted)}
main{max-width:1200px;margin:0 auto;padding:1rem 1.2rem 3rem}
h1{font-size:1.4rem;margin:.6rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
thead th{background:#eef2f6;font-size:.9rem}
table.facts th{width:14rem;background:#fafbfc;font-weight:600}
table.messages td{font-size:.9rem;word-break:break-word}
td.response{color:var(--muted);max-width:22rem}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;background:#eef2f6;padding:0 .25em;border-radius:3px}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.85em;white-space:nowrap}
.badge.delivered{background:var(--okbg);color:var(--ok)}.badge.refused{background:var(--errbg);color:var(--err)}
.badge.deferred,.badge.uncertain{background:var(--warnbg);color:var(--warn)}
.notice{padding:.7rem 1rem;border-radius:6px;margin:.8rem 0;background:#e8f0fe;border:1px solid #c6dafc}
.notice.ok{background:var(--okbg);border-color:#b7dfc1}.notice.error{background:var(--errbg);border-color:#f4c7c3}
.hint{margin:.4rem 0 0}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end;background:#fff;border:1px solid var(--line);padding:.8rem;border-radius:6px}
form.filters label,form.stack label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted);gap:.2rem}
form.stack{display:flex;flex-direction:column;gap:.8rem;max-width:26rem;background:#fff;border:1px solid var(--line);padding:1rem;border-radius:6px}
input,select{font:inherit;padding:.35rem .5rem;border:1px solid #b8c2cc;border-radius:4px;color:var(--fg);background:#fff}
button,.button{font:inherit;padding:.4rem 1rem;border:0;border-radius:4px;background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
.logout button{background:transparent;color:var(--accent);border:1px solid var(--line)}
.pager{display:flex;gap:1rem;justify-content:center;margin:1rem 0}
form.again button{background:transparent;color:var(--accent);border:1px solid var(--line)}
ol.steps li{margin:.4rem 0}
`,
    },
  ],
  [
    '/static/console.js',
    {
      type: 'text/javascript; charset=utf-8',
      // Shows every <time> in the browser's own time zone (the page has the bridge machine's).
      body: `'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var two = function (n) { return (n < 10 ? '0' : '') + n; };
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var d = new Date(el.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    el.textContent = d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' + two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  });
});
`,
    },
  ],
]);
