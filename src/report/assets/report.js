// The report page: reads the JSON blocks the generator wrote (meta, rows, details, stories,
// totals) and builds the flow list, the filter, the detail pane, the stories and the findings in
// #app. Plain DOM, no network, no eval: every captured byte reaches the page through textContent.
(function () {
  'use strict';

  var started = performance.now();
  var ROW_HEIGHT = 22;
  var MARGIN_ROWS = 12;
  var SEVERITIES = ['error', 'warning', 'info'];
  var RANK = { info: 1, warning: 2, error: 3 };

  function byId(id) {
    return document.getElementById(id);
  }

  function readJson(el, fallback) {
    if (!el) return fallback;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return fallback;
    }
  }

  /** A new element with an optional class and text (never markup). */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }

  // ------------------------------------------------------------------------------------------
  // Data

  var meta = readJson(byId('meta'), {}) || {};
  var rows = [];
  var blocks = document.querySelectorAll('script.rows');
  for (var b = 0; b < blocks.length; b++) {
    var part = readJson(blocks[b], []);
    if (Array.isArray(part)) for (var p = 0; p < part.length; p++) rows.push(part[p]);
  }
  var totals = readJson(byId('totals'), {}) || {};
  var stories = readJson(byId('stories'), []) || [];
  var indexOf = new Map();
  rows.forEach(function (r, i) {
    indexOf.set(r.id, i);
  });
  var parsed = performance.now();

  // ------------------------------------------------------------------------------------------
  // The filter language (idscope's src/filter.rs), evaluated over the row facets

  var UNSUPPORTED = ['~b', '~bq', '~bs', '~h', '~hq', '~hs', '~src', '~dst', '~comment', '~marked', '~replay',
    '~corr', '~grant'];

  function FilterError(pos, message) {
    this.pos = pos;
    this.message = message;
  }

  function isSpace(c) {
    return /\s/.test(c);
  }

  function lex(input) {
    var out = [];
    var i = 0;
    while (i < input.length) {
      var c = input[i];
      if (isSpace(c)) {
        i++;
      } else if (c === '!' || c === '&' || c === '|' || c === '(' || c === ')') {
        out.push({ pos: i, t: c });
        i++;
      } else if (c === '"' || c === "'") {
        var start = i;
        var s = '';
        var closed = false;
        i++;
        while (i < input.length) {
          var d = input[i++];
          if (d === '\\') {
            if (i >= input.length) break;
            var e = input[i++];
            if (e === c || e === '\\') s += e;
            else s += '\\' + e;
          } else if (d === c) {
            closed = true;
            break;
          } else {
            s += d;
          }
        }
        if (!closed) throw new FilterError(start, 'unterminated quote ' + c);
        out.push({ pos: start, t: 'word', v: s });
      } else {
        var from = i;
        while (i < input.length && !isSpace(input[i]) && '()|&'.indexOf(input[i]) < 0) i++;
        var w = input.slice(from, i);
        out.push({ pos: from, t: w[0] === '~' ? 'op' : 'word', v: w });
      }
    }
    return out;
  }

  function regex(pos, pattern) {
    try {
      return new RegExp(pattern, 'i');
    } catch (e) {
      var msg = String(e.message || e);
      var cut = msg.lastIndexOf(': ');
      throw new FilterError(pos, 'invalid regex `' + pattern + '`: ' + (cut >= 0 ? msg.slice(cut + 2) : msg));
    }
  }

  /** The claim name matches exactly or as the last segment of a claim URI (`upn` matches
   * `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn`); `name` is lowercase. */
  function claimNameMatches(label, name) {
    var l = String(label);
    var tail = l.slice(Math.max(l.lastIndexOf('/'), l.lastIndexOf(':')) + 1);
    return (
      (l.length === name.length && l.toLowerCase() === name) ||
      (tail.length === name.length && tail.toLowerCase() === name)
    );
  }

  function Parser(input, toks) {
    this.toks = toks;
    this.at = 0;
    this.end = input.length;
  }

  Parser.prototype.peek = function () {
    return this.toks[this.at];
  };

  Parser.prototype.pos = function () {
    var t = this.peek();
    return t ? t.pos : this.end;
  };

  Parser.prototype.or = function () {
    var left = this.and();
    while (this.peek() && this.peek().t === '|') {
      this.at++;
      var right = this.and();
      left = orOf(left, right);
    }
    return left;
  };

  Parser.prototype.and = function () {
    var left = this.unary();
    for (;;) {
      var t = this.peek();
      if (!t) break;
      if (t.t === '&') this.at++;
      else if (t.t !== '!' && t.t !== '(' && t.t !== 'op' && t.t !== 'word') break;
      var right = this.unary();
      left = andOf(left, right);
    }
    return left;
  };

  function orOf(a, b) {
    return function (r) {
      return a(r) || b(r);
    };
  }

  function andOf(a, b) {
    return function (r) {
      return a(r) && b(r);
    };
  }

  Parser.prototype.unary = function () {
    var pos = this.pos();
    var t = this.peek();
    if (!t) throw new FilterError(pos, 'expected a filter');
    if (t.t === '!') {
      this.at++;
      var inner = this.unary();
      return function (r) {
        return !inner(r);
      };
    }
    if (t.t === '(') {
      this.at++;
      var e = this.or();
      if (this.peek() && this.peek().t === ')') {
        this.at++;
        return e;
      }
      throw new FilterError(this.pos(), 'missing `)` for the `(` at column ' + (column(this.input, pos)));
    }
    if (t.t === 'word') {
      this.at++;
      var re = regex(pos, t.v);
      return function (r) {
        return re.test(r.u || '');
      };
    }
    if (t.t === 'op') {
      this.at++;
      return this.operator(pos, t.v);
    }
    if (t.t === ')') throw new FilterError(pos, 'unexpected `)`');
    throw new FilterError(pos, 'expected a filter before this operator');
  };

  Parser.prototype.arg = function (op) {
    var t = this.peek();
    if (t && t.t === 'word') {
      this.at++;
      return t;
    }
    throw new FilterError(this.pos(), '`' + op + '` needs an argument');
  };

  Parser.prototype.reArg = function (op) {
    var t = this.arg(op);
    return regex(t.pos, t.v);
  };

  /** `3,7,12-20` as [[3,3],[7,7],[12,20]], or null, as idscope's `~id` reads it. */
  function idList(text) {
    var out = [];
    var parts = text.split(',');
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      var dash = part.indexOf('-');
      var a = dash < 0 ? part : part.slice(0, dash).trim();
      var b = dash < 0 ? part : part.slice(dash + 1).trim();
      if (!/^\+?[0-9]+$/.test(a) || !/^\+?[0-9]+$/.test(b) || Number(a) > Number(b)) return null;
      out.push([Number(a), Number(b)]);
    }
    return out;
  }

  function contentType(re, which) {
    return function (r) {
      var ct = r.ct || [];
      return which.some(function (i) {
        return !!ct[i] && re.test(ct[i]);
      });
    };
  }

  Parser.prototype.operator = function (pos, op) {
    var lower = op.toLowerCase();
    var re;
    switch (lower) {
      case '~all':
        return function () {
          return true;
        };
      case '~q':
        return function (r) {
          return (r.s === null || r.s === undefined) && !r.e;
        };
      case '~s':
        return function (r) {
          return r.s !== null && r.s !== undefined;
        };
      case '~e':
        return function (r) {
          return !!r.e;
        };
      case '~noise':
        return function (r) {
          return !!r.n;
        };
      case '~m':
        re = this.reArg(op);
        return function (r) {
          return re.test(r.m || '');
        };
      case '~d':
        re = this.reArg(op);
        return function (r) {
          return re.test(r.h || '');
        };
      case '~u':
        re = this.reArg(op);
        return function (r) {
          return re.test(r.u || '');
        };
      case '~t':
        return contentType(this.reArg(op), [0, 1]);
      case '~tq':
        return contentType(this.reArg(op), [0]);
      case '~ts':
        return contentType(this.reArg(op), [1]);
      case '~op':
        re = this.reArg(op);
        return function (r) {
          return (r.ops || []).some(function (o) {
            return re.test(o);
          });
        };
      case '~story':
        re = this.reArg(op);
        return function (r) {
          return !!r.st && re.test(r.st);
        };
      case '~id': {
        var l = this.arg(op);
        var ranges = idList(l.v);
        if (!ranges) {
          throw new FilterError(l.pos, '`~id` needs flow numbers like 3,7,12-20, not `' + l.v + '`');
        }
        return function (r) {
          return ranges.some(function (x) {
            return r.id >= x[0] && r.id <= x[1];
          });
        };
      }
      case '~c': {
        var a = this.arg(op);
        var code = /^\+?[0-9]+$/.test(a.v) ? Number(a.v) : NaN;
        if (!(code >= 100 && code <= 999)) {
          throw new FilterError(a.pos, '`~c` needs a status code, not `' + a.v + '`');
        }
        return function (r) {
          return r.s === code;
        };
      }
      case '~k': {
        var k = this.arg(op);
        var known = Array.isArray(meta.kinds) ? meta.kinds : [];
        var kind = k.v.toLowerCase();
        if (!known.some(function (x) {
          return String(x).toLowerCase() === kind;
        })) {
          throw new FilterError(k.pos, 'unknown kind `' + k.v + '` (known: ' + known.join(', ') + ')');
        }
        return function (r) {
          return (r.k || []).some(function (x) {
            return String(x).toLowerCase() === kind;
          });
        };
      }
      case '~claim': {
        var c = this.arg(op);
        var eq = c.v.indexOf('=');
        if (eq < 0) throw new FilterError(c.pos, '`~claim` needs NAME=REGEX');
        if (eq === 0) throw new FilterError(c.pos, '`~claim` needs a claim name before `=`');
        var name = c.v.slice(0, eq).toLowerCase();
        var value = regex(c.pos + eq + 1, c.v.slice(eq + 1));
        return function (r) {
          return (r.cl || []).some(function (pair) {
            return claimNameMatches(pair[0], name) && value.test(String(pair[1]));
          });
        };
      }
      case '~finding': {
        var t = this.peek();
        var min = 0;
        if (t && t.t === 'word') {
          var w = t.v.toLowerCase();
          min = w === 'info' ? 1 : w === 'warning' || w === 'warn' ? 2 : w === 'error' ? 3 : 0;
        }
        if (min) this.at++;
        return function (r) {
          var rank = RANK[r.w] || 0;
          return rank > 0 && rank >= min;
        };
      }
      default:
        if (UNSUPPORTED.indexOf(lower) >= 0) {
          throw new FilterError(
            pos,
            '`' + op + '` needs headers or bodies: the report evaluates row facets only ' +
              '(make the report with `--filter` to use it)'
          );
        }
        throw new FilterError(pos, 'unknown filter `' + op + '`');
    }
  };

  /** The 1-based column, in bytes of UTF-8 as idscope counts, of a string index. */
  function column(input, pos) {
    return new TextEncoder().encode(String(input || '').slice(0, pos)).length + 1;
  }

  /** A predicate over rows, or throws a FilterError; `null` for an empty expression. */
  function parseFilter(input) {
    var toks = lex(input);
    if (toks.length === 0) return null;
    var p = new Parser(input, toks);
    p.input = input;
    var f = p.or();
    var t = p.peek();
    if (t) throw new FilterError(t.pos, t.t === ')' ? 'unexpected `)`' : 'unexpected input');
    return f;
  }

  // ------------------------------------------------------------------------------------------
  // The page's frame

  /** `3 errors`, `1 warning`, `5 info`. */
  function plural(n, severity) {
    return n + ' ' + severity + (n === 1 || severity === 'info' ? '' : 's');
  }

  var app = byId('app');
  var tabs = el('nav', null);
  tabs.id = 'tabs';
  var panels = {};
  var tabButtons = {};
  [
    ['flows', 'Flows'],
    ['stories', 'Stories'],
    ['findings', 'Findings'],
  ].forEach(function (t) {
    var btn = el('button', 'tab', t[1]);
    btn.type = 'button';
    btn.dataset.tab = t[0];
    btn.addEventListener('click', function () {
      showTab(t[0]);
    });
    tabButtons[t[0]] = btn;
    tabs.appendChild(btn);
    var panel = el('section', 'panel');
    panel.id = 'panel-' + t[0];
    panel.hidden = true;
    panels[t[0]] = panel;
  });
  var summaryLine = el('span', 'totals');
  tabs.appendChild(summaryLine);
  add(app, tabs, panels.flows, panels.stories, panels.findings);

  var current = null;
  var storiesBuilt = false;
  var findingsBuilt = false;

  function showTab(name) {
    Object.keys(panels).forEach(function (k) {
      panels[k].hidden = k !== name;
      tabButtons[k].classList.toggle('active', k === name);
      tabButtons[k].setAttribute('aria-selected', k === name ? 'true' : 'false');
    });
    current = name;
    if (name === 'stories' && !storiesBuilt) buildStories();
    if (name === 'findings' && !findingsBuilt) buildFindings();
    if (name === 'flows') renderList();
  }

  (function () {
    var f = totals.findings || {};
    var bits = [(totals.flows !== undefined ? totals.flows : rows.length) + ' flows'];
    SEVERITIES.forEach(function (s) {
      if (f[s]) bits.push(plural(f[s], s));
    });
    if (totals.stories) bits.push(totals.stories + (totals.stories === 1 ? ' story' : ' stories'));
    bits.push(meta.redacted === false ? 'NOT redacted' : 'redacted');
    summaryLine.textContent = bits.join(' · ');
  })();

  // ------------------------------------------------------------------------------------------
  // Flows: the filter, the virtual list, the detail pane

  var bar = el('div', 'filterbar');
  var label = el('label', null, 'Filter');
  var input = el('input');
  input.id = 'filter';
  input.type = 'search';
  input.spellcheck = false;
  input.autocomplete = 'off';
  input.placeholder = '~d login & !~c 200   ( / to focus, Esc to leave )';
  label.htmlFor = 'filter';
  var count = el('span', 'count');
  count.id = 'count';
  var filterError = el('div', 'filter-error');
  filterError.id = 'filter-error';
  filterError.hidden = true;
  add(bar, label, input, count);
  var generationFilter = null;
  if (meta.filter) {
    generationFilter = el(
      'div',
      'note',
      'This report holds only the flows matching `' + meta.filter + '`' +
        (meta.flows_in_capture !== undefined ? ' (' + meta.flows_in_capture + ' flows in the capture).' : '.')
    );
  }

  var split = el('div', 'split');
  var listWrap = el('div', 'listwrap');
  var head = el('div', 'row head');
  ['#', '', 'method', 'host', 'path', 'status', 'kind', 'summary'].forEach(function (h, i) {
    head.appendChild(el('span', 'c' + i, h));
  });
  var list = el('div', 'list');
  list.id = 'list';
  list.tabIndex = 0;
  list.setAttribute('role', 'listbox');
  var spacer = el('div', 'spacer');
  list.appendChild(spacer);
  add(listWrap, head, list);
  var detail = el('div', 'detail');
  detail.id = 'detail';
  detail.appendChild(el('p', 'hint', 'Select a flow (click, or ↑/↓ and Enter) to see its request, response and decoded tree.'));
  add(split, listWrap, detail);
  add(panels.flows, bar, filterError, generationFilter, split);

  var shown = new Int32Array(rows.length);
  for (var s0 = 0; s0 < rows.length; s0++) shown[s0] = s0;
  var shownCount = rows.length;
  var selected = -1; // index into `shown`
  var openedId = null;

  function updateCount() {
    count.textContent = shownCount + ' of ' + rows.length + ' flows';
  }

  function applyFilter() {
    var text = input.value;
    var pred;
    try {
      pred = parseFilter(text);
      filterError.hidden = true;
      filterError.textContent = '';
      input.classList.remove('bad');
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      filterError.textContent = e.message + ' (at column ' + column(text, e.pos) + ')';
      filterError.hidden = false;
      input.classList.add('bad');
      return;
    }
    var keep = selected >= 0 ? shown[selected] : -1;
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      if (!pred || pred(rows[i])) shown[n++] = i;
    }
    shownCount = n;
    selected = -1;
    if (keep >= 0) {
      for (var j = 0; j < n; j++) {
        if (shown[j] === keep) {
          selected = j;
          break;
        }
      }
    }
    updateCount();
    list.scrollTop = selected >= 0 ? Math.max(0, selected * ROW_HEIGHT - list.clientHeight / 2) : 0;
    renderList();
  }

  var debounce = null;
  input.addEventListener('input', function () {
    clearTimeout(debounce);
    debounce = setTimeout(applyFilter, 150);
  });
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') {
      clearTimeout(debounce);
      applyFilter();
      ev.preventDefault();
    } else if (ev.key === 'Escape') {
      input.blur();
      list.focus();
      ev.preventDefault();
    }
  });

  function cells(r) {
    var path = r.p || '';
    var status = r.s !== null && r.s !== undefined ? String(r.s) : r.e ? 'error' : '…';
    return ['#' + r.id, r.mk || '', r.m || '', r.h || '', path, status, (r.k || []).join(' '), r.sum || ''];
  }

  function rowElement(i, pos) {
    var r = rows[i];
    var div = el('div', 'row');
    div.dataset.id = r.id;
    div.dataset.pos = pos;
    div.setAttribute('role', 'option');
    if (r.w) div.classList.add('sev-' + r.w);
    if (r.e) div.classList.add('failed');
    else if (r.s >= 400) div.classList.add('status-bad');
    if (pos === selected) {
      div.classList.add('selected');
      div.setAttribute('aria-selected', 'true');
    }
    if (r.id === openedId) div.classList.add('opened');
    var c = cells(r);
    for (var k = 0; k < c.length; k++) {
      var span = el('span', 'c' + k, c[k]);
      if (k === 3 || k === 4 || k === 7) span.title = c[k];
      div.appendChild(span);
    }
    div.style.top = pos * ROW_HEIGHT + 'px';
    return div;
  }

  var renderQueued = false;

  function renderList() {
    renderQueued = false;
    if (current !== 'flows') return;
    spacer.style.height = shownCount * ROW_HEIGHT + 'px';
    var top = list.scrollTop;
    var height = list.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW_HEIGHT) - MARGIN_ROWS);
    var last = Math.min(shownCount, Math.ceil((top + height) / ROW_HEIGHT) + MARGIN_ROWS);
    var frag = document.createDocumentFragment();
    for (var pos = first; pos < last; pos++) frag.appendChild(rowElement(shown[pos], pos));
    var old = list.querySelectorAll('.row');
    for (var o = 0; o < old.length; o++) old[o].remove();
    list.appendChild(frag);
    if (shownCount === 0) {
      var none = el('div', 'row empty', rows.length ? 'no flow matches the filter' : 'no flows');
      none.style.top = '0px';
      list.appendChild(none);
    }
  }

  list.addEventListener('scroll', function () {
    if (!renderQueued) {
      renderQueued = true;
      requestAnimationFrame(renderList);
    }
  });
  window.addEventListener('resize', function () {
    renderList();
  });

  list.addEventListener('click', function (ev) {
    var row = ev.target.closest('.row[data-id]');
    if (!row) return;
    selected = Number(row.dataset.pos);
    openFlow(Number(row.dataset.id));
  });

  function select(pos) {
    if (shownCount === 0) return;
    selected = Math.max(0, Math.min(shownCount - 1, pos));
    var y = selected * ROW_HEIGHT;
    if (y < list.scrollTop) list.scrollTop = y;
    else if (y + ROW_HEIGHT > list.scrollTop + list.clientHeight) list.scrollTop = y + ROW_HEIGHT - list.clientHeight;
    renderList();
  }

  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    // Keys on buttons, links and folds keep their own meaning.
    var ours = t === document.body || t === document.documentElement || t === list || list.contains(t);
    if (ev.key === '/') {
      showTab('flows');
      input.focus();
      input.select();
      ev.preventDefault();
      return;
    }
    if (current !== 'flows' || !ours) return;
    var page = Math.max(1, Math.floor(list.clientHeight / ROW_HEIGHT) - 1);
    var moves = {
      ArrowDown: 1,
      j: 1,
      ArrowUp: -1,
      k: -1,
      PageDown: page,
      PageUp: -page,
    };
    if (ev.key in moves) {
      select((selected < 0 ? (moves[ev.key] > 0 ? -1 : shownCount) : selected) + moves[ev.key]);
      ev.preventDefault();
    } else if (ev.key === 'Home' && t === list) {
      select(0);
      ev.preventDefault();
    } else if (ev.key === 'End' && t === list) {
      select(shownCount - 1);
      ev.preventDefault();
    } else if (ev.key === 'Enter' && selected >= 0 && selected < shownCount) {
      openFlow(rows[shown[selected]].id);
      ev.preventDefault();
    }
  });

  // ------------------------------------------------------------------------------------------
  // The detail pane

  function section(title, cls) {
    var s = el('section', 'part' + (cls ? ' ' + cls : ''));
    s.appendChild(el('h3', null, title));
    return s;
  }

  function headersTable(headers) {
    var t = el('table', 'headers');
    (headers || []).forEach(function (h) {
      var tr = el('tr');
      add(tr, el('th', null, h[0]), el('td', null, h[1]));
      t.appendChild(tr);
    });
    return t;
  }

  function bodyBlock(body) {
    var wrap = el('div', 'body');
    if (!body) {
      wrap.appendChild(el('p', 'muted', 'no body'));
      return wrap;
    }
    if (typeof body.base64 === 'string') {
      wrap.appendChild(
        el(
          'p',
          'note',
          'binary body, ' + body.size + ' bytes, shown as base64' + (body.clipped ? ' (first part only)' : '')
        )
      );
      wrap.appendChild(el('pre', 'b64', body.base64));
    } else {
      var text = typeof body.text === 'string' ? body.text : '';
      if (body.clipped) wrap.appendChild(el('p', 'note', 'clipped: ' + body.size + ' bytes in the capture'));
      if (text === '') wrap.appendChild(el('p', 'muted', 'empty body'));
      else wrap.appendChild(el('pre', 'text', text));
    }
    return wrap;
  }

  function findingsList(findings, withDecoder) {
    var ul = el('ul', 'findings');
    (findings || []).forEach(function (f) {
      var li = el('li', 'sev-' + f.severity);
      add(li, el('span', 'sev', f.severity));
      if (withDecoder && (f.decoder || f.side)) {
        add(li, el('span', 'where', [f.side, f.decoder].filter(Boolean).join(' · ')));
      }
      add(li, el('span', 'msg', f.message));
      if (f.at) add(li, el('span', 'at', 'at ' + f.at));
      ul.appendChild(li);
    });
    return ul;
  }

  function nodeLine(n) {
    var line = el('span', 'node k-' + (n.kind || 'field'));
    add(line, el('span', 'label', n.label));
    if (n.value !== undefined && n.value !== null) {
      var v = el(n.kind === 'markup' ? 'pre' : 'span', 'value', n.value);
      add(line, el('span', 'sep', ': '), v);
    }
    if (n.note) add(line, el('span', 'note', n.note));
    return line;
  }

  function treeNode(n, depth) {
    var kids = Array.isArray(n.children) ? n.children : [];
    if (kids.length === 0) {
      var leaf = el('div', 'leaf');
      leaf.appendChild(nodeLine(n));
      return leaf;
    }
    var d = el('details');
    if (depth < 4 && kids.length <= 200) d.open = true;
    var sum = el('summary');
    sum.appendChild(nodeLine(n));
    d.appendChild(sum);
    var box = el('div', 'kids');
    kids.forEach(function (k) {
      box.appendChild(treeNode(k, depth + 1));
    });
    d.appendChild(box);
    return d;
  }

  function outcomes(list, side) {
    var s = section('Decoded ' + side, 'decoded');
    var any = false;
    (list || []).forEach(function (o) {
      var res = o.result || {};
      if (res.ok) {
        any = true;
        var t = el('div', 'tree');
        t.dataset.decoder = o.decoder;
        var h = el('div', 'tree-head');
        add(h, el('span', 'decoder', o.decoder), el('span', 'summary', res.ok.summary || ''));
        t.appendChild(h);
        if (res.ok.root) t.appendChild(treeNode(res.ok.root, 0));
        if (res.ok.findings && res.ok.findings.length) t.appendChild(findingsList(res.ok.findings, false));
        s.appendChild(t);
      } else if (res.error !== undefined) {
        s.appendChild(el('p', 'decode-error', 'decoder ' + o.decoder + ': ' + res.error));
      }
    });
    if (!any && !(list || []).length) s.appendChild(el('p', 'muted', 'no decoder understood the ' + side));
    return s;
  }

  function loadDetail(id) {
    return readJson(byId('f-' + id), null);
  }

  function openFlow(id) {
    id = Number(id);
    var i = indexOf.get(id);
    if (current !== 'flows') showTab('flows');
    openedId = id;
    if (i !== undefined) {
      for (var pos = 0; pos < shownCount; pos++) {
        if (shown[pos] === i) {
          select(pos);
          break;
        }
      }
    }
    renderList();
    renderDetail(id);
    if (location.hash !== '#flow-' + id) {
      try {
        history.replaceState(null, '', '#flow-' + id);
      } catch (e) {
        // A browser that refuses history on file: URLs keeps the old hash; nothing else changes.
      }
    }
  }

  function renderDetail(id) {
    var d = loadDetail(id);
    var row = rows[indexOf.get(id)];
    detail.replaceChildren();
    detail.scrollTop = 0;
    if (!d) {
      detail.appendChild(el('p', 'decode-error', 'flow #' + id + ' is not in this report'));
      return;
    }
    var title = el('h2', null);
    add(title, el('span', 'id', '#' + id + ' '), (d.request ? d.request.method + ' ' + d.request.url : ''));
    detail.appendChild(title);
    if (row && row.sum) detail.appendChild(el('p', 'summary', row.sum));
    var facts = [];
    if (row && row.t) facts.push(row.t);
    if (row && row.ms !== null && row.ms !== undefined) facts.push(row.ms + ' ms');
    if (row && row.st) facts.push('step of the story “' + row.st + '”');
    if (facts.length) detail.appendChild(el('p', 'muted', facts.join(' · ')));
    if (d.error) {
      var err = section('Error', 'error');
      err.appendChild(el('pre', 'text', d.error));
      detail.appendChild(err);
    }
    if ((d.findings || []).length) {
      var fs = section('Findings');
      fs.appendChild(findingsList(d.findings, true));
      detail.appendChild(fs);
    }
    if (d.before_redaction && d.before_redaction.length) {
      var br = section('checked before redaction', 'before-redaction');
      br.appendChild(
        el('p', 'note', 'what the decoders found in the original capture that its redacted copy can no longer show')
      );
      br.appendChild(findingsList(d.before_redaction, true));
      detail.appendChild(br);
    }
    var dec = d.decoded || {};
    detail.appendChild(outcomes(dec.request, 'request'));
    if (d.response) detail.appendChild(outcomes(dec.response, 'response'));
    if (d.request) {
      var rq = section('Request', 'raw');
      rq.appendChild(el('p', 'startline', d.request.method + ' ' + d.request.url + ' ' + (d.request.version || '')));
      rq.appendChild(headersTable(d.request.headers));
      rq.appendChild(bodyBlock(d.request.body));
      detail.appendChild(rq);
    }
    if (d.response) {
      var rs = section('Response', 'raw');
      rs.appendChild(
        el('p', 'startline', (d.response.version || '') + ' ' + d.response.status + ' ' + (d.response.reason || ''))
      );
      rs.appendChild(headersTable(d.response.headers));
      rs.appendChild(bodyBlock(d.response.body));
      detail.appendChild(rs);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Stories

  /** Wraps every `#N` naming a flow of this report in a clickable span. */
  function linkFlowRefs(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    texts.forEach(function (t) {
      var s = t.nodeValue;
      var re = /#(\d+)/g;
      var m;
      var last = 0;
      var frag = null;
      while ((m = re.exec(s))) {
        if (!indexOf.has(Number(m[1]))) continue;
        frag = frag || document.createDocumentFragment();
        frag.appendChild(document.createTextNode(s.slice(last, m.index)));
        var a = el('span', 'flowref', m[0]);
        a.dataset.flow = m[1];
        a.tabIndex = 0;
        frag.appendChild(a);
        last = m.index + m[0].length;
      }
      if (frag) {
        frag.appendChild(document.createTextNode(s.slice(last)));
        t.parentNode.replaceChild(frag, t);
      }
    });
  }

  function storyFallback(story) {
    var sec = el('section', 'story');
    sec.appendChild(el('h3', null, story.story));
    var ol = el('ol', 'steps');
    (story.steps || []).forEach(function (st) {
      var li = el('li', st.failed ? 'failed' : null, '#' + st.flow + ' ' + st.label + (st.failed ? ' ✗ ' + st.failed : ''));
      ol.appendChild(li);
    });
    var ul = el('ul', 'checks');
    (story.checks || []).forEach(function (c) {
      var li = el('li', 'check ' + c.verdict, c.message);
      li.dataset.flows = (c.flows || []).join(' ');
      ul.appendChild(li);
    });
    add(sec, ol, ul);
    return sec;
  }

  function buildStories() {
    storiesBuilt = true;
    var panel = panels.stories;
    var holder = byId('diagrams');
    var sections = holder ? Array.prototype.slice.call(holder.querySelectorAll('section.story')) : [];
    if (sections.length) {
      sections.forEach(function (s) {
        panel.appendChild(s);
      });
    } else {
      stories.forEach(function (st) {
        panel.appendChild(storyFallback(st));
      });
    }
    if (holder) holder.remove();
    if (!panel.querySelector('section.story')) panel.appendChild(el('p', 'muted', 'no stories in this capture'));
    panel.querySelectorAll('ul.checks, ol.steps').forEach(linkFlowRefs);
  }

  panels.stories.addEventListener('click', function (ev) {
    var t = ev.target;
    var ref = t.closest('.flowref[data-flow]');
    var step = t.closest('g.step[data-flow]');
    if (ref) openFlow(ref.dataset.flow);
    else if (step) openFlow(step.getAttribute('data-flow'));
    else {
      var check = t.closest('li.check[data-flows]');
      var first = check && check.getAttribute('data-flows').split(/\s+/).filter(Boolean)[0];
      if (first) openFlow(first);
    }
  });
  panels.stories.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && ev.target.classList && ev.target.classList.contains('flowref')) {
      openFlow(ev.target.dataset.flow);
    }
  });

  // ------------------------------------------------------------------------------------------
  // Findings

  var FINDINGS_SHOWN = 5000;

  function buildFindings() {
    findingsBuilt = true;
    var panel = panels.findings;
    var groups = { error: [], warning: [], info: [] };
    var more = 0;
    rows.forEach(function (r) {
      (r.f || []).forEach(function (f) {
        if (groups[f[0]]) groups[f[0]].push([r, f[1]]);
      });
      more += r.fx || 0;
    });
    SEVERITIES.forEach(function (sev) {
      var g = groups[sev];
      if (!g.length) return;
      var s = el('section', 'fgroup sev-' + sev);
      s.appendChild(el('h3', null, plural(g.length, sev)));
      var ul = el('ul', 'findings');
      g.slice(0, FINDINGS_SHOWN).forEach(function (item) {
        var r = item[0];
        var li = el('li', 'finding sev-' + sev);
        li.dataset.flow = r.id;
        li.tabIndex = 0;
        var where = el('span', 'where', (r.m || '') + ' ' + (r.h || '') + (r.p || '').split('?')[0]);
        where.title = r.u || '';
        add(li, el('span', 'flowref', '#' + r.id), where, el('span', 'msg', item[1]));
        ul.appendChild(li);
      });
      s.appendChild(ul);
      if (g.length > FINDINGS_SHOWN) {
        s.appendChild(el('p', 'note', (g.length - FINDINGS_SHOWN) + ' more: filter the flows with `~finding ' + sev + '`'));
      }
      panel.appendChild(s);
    });
    if (more) panel.appendChild(el('p', 'note', more + ' more findings are only in the flows themselves'));
    if (!panel.querySelector('li')) panel.appendChild(el('p', 'muted', 'no findings'));
  }

  panels.findings.addEventListener('click', function (ev) {
    var li = ev.target.closest('li[data-flow]');
    if (li) openFlow(li.dataset.flow);
  });
  panels.findings.addEventListener('keydown', function (ev) {
    var li = ev.target.closest && ev.target.closest('li[data-flow]');
    if (li && ev.key === 'Enter') openFlow(li.dataset.flow);
  });

  // ------------------------------------------------------------------------------------------
  // Start

  function fromHash() {
    var m = /^#flow-(\d+)$/.exec(location.hash);
    if (m && indexOf.has(Number(m[1]))) openFlow(m[1]);
  }
  window.addEventListener('hashchange', fromHash);

  updateCount();
  showTab('flows');
  fromHash();
  var painted = performance.now();
  // For benches/report_paint.mjs: when the list was first drawn, on the page's own clock.
  if (performance.mark) performance.mark('report:list');
  document.documentElement.dataset.timings = JSON.stringify({
    parse_ms: Math.round(parsed - started),
    first_render_ms: Math.round(painted - started),
    rows: rows.length,
  });
})();
