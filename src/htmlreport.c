/* rtpprobe --html FILE: the report as one page an agent attaches to a ticket.
 *
 * The page carries the report's JSON (rp_report_print_json, the --json output) in a
 * <script type="application/json"> element; an inline script draws the table and the
 * plots from it with DOM calls only (textContent, createElementNS: no innerHTML, so a
 * string in the report is never markup). The verdict, diagnosis, cause and
 * remediation are also written into the HTML here, so they read without JavaScript.
 * Nothing is fetched: the Content-Security-Policy allows only this page's one style
 * and one script, by their SHA-256 (computed here from the strings below, so the
 * hashes cannot drift from the code), and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "filereplace.h"
#include "htmlreport.h"
#include "report.h"

/* The style and the script, written out as C strings. Edit them here; the CSP
 * hashes follow by themselves. */
static const char page_style[] =
    "body { font: 14px/1.4 system-ui, sans-serif; color: #222; margin: 1.5em auto; max-width: 760px; padding: 0 1em; }\n"
    "h1 { font-size: 1.4em; margin: 0 0 .2em; }\n"
    "h2 { font-size: 1.1em; margin: 1.4em 0 .5em; }\n"
    ".meta { color: #555; margin: 0 0 .8em; }\n"
    ".box { border-left: 6px solid #888; padding: .4em .9em; background: #f4f4f4; }\n"
    ".v-pass { border-color: #2a8a3a; } .v-warn { border-color: #d08a00; }\n"
    ".v-fail { border-color: #c0392b; } .v-unknown { border-color: #777; }\n"
    ".box p { margin: .3em 0; }\n"
    ".verdict strong { text-transform: uppercase; }\n"
    "table.dirs { border-collapse: collapse; width: 100%; }\n"
    "table.dirs th, table.dirs td { border-bottom: 1px solid #ddd; padding: .25em .5em; text-align: left; }\n"
    "table.dirs td.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
    "figure.plot { margin: 0 0 1.2em; }\n"
    "figcaption { font-weight: 600; margin-bottom: .2em; }\n"
    "svg { max-width: 100%; height: auto; font-size: 11px; }\n"
    "svg text { fill: #555; }\n"
    ".axis { stroke: #444; } .grid { stroke: #e4e4e4; }\n"
    ".line { fill: none; stroke-width: 1.5; }\n"
    ".s0 .line { stroke: #1f6fb4; } .s0 .pt { fill: #1f6fb4; }\n"
    ".s1 .line { stroke: #d9611e; } .s1 .pt { fill: #d9611e; }\n"
    ".legend { margin: .1em 0; color: #555; }\n"
    ".key { margin-right: 1.2em; } .key::before { content: \"\\25A0 \"; }\n"
    ".key.s0::before { color: #1f6fb4; } .key.s1::before { color: #d9611e; }\n"
    ".note { color: #777; font-style: italic; }\n";

static const char page_script[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var NS = document.getElementById('svg-ns').namespaceURI;\n"
    "  var rep = JSON.parse(document.getElementById('report').textContent);\n"
    "  var DIRS = [['upstream', 'upstream (agent \\u2192 host)'], ['downstream', 'downstream (host \\u2192 agent)']];\n"
    "  function el(tag, cls, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (cls) e.className = cls;\n"
    "    if (text !== undefined) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "  function sv(tag, attrs, text) {\n"
    "    var e = document.createElementNS(NS, tag);\n"
    "    for (var k in attrs) e.setAttribute(k, String(attrs[k]));\n"
    "    if (text !== undefined) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "  function num(v) { return typeof v === 'number' && isFinite(v); }\n"
    "  function fmt(v, dec, unit) {\n"
    "    if (!num(v)) return '\\u2013';\n"
    "    return v.toFixed(dec) + (unit ? ' ' + unit : '');\n"
    "  }\n"
    "  function pick(o, path) {\n"
    "    for (var i = 0; i < path.length; i++) {\n"
    "      if (o === null || typeof o !== 'object') return null;\n"
    "      o = o[path[i]];\n"
    "    }\n"
    "    return o === undefined ? null : o;\n"
    "  }\n"
    "  var ROWS = [\n"
    "    ['measured', ['measured'], function (v) { return v === true ? 'yes' : 'no'; }],\n"
    "    ['packets sent', ['sent'], 0], ['packets received', ['received'], 0], ['packets lost', ['lost'], 0],\n"
    "    ['loss', ['loss_pct'], 2, '%'], ['late', ['late'], 0],\n"
    "    ['jitter (mean)', ['jitter_mean_ms'], 2, 'ms'], ['jitter (end)', ['jitter_ms'], 2, 'ms'],\n"
    "    ['delay above min p50', ['delay_ms', 'p50'], 1, 'ms'], ['delay above min p95', ['delay_ms', 'p95'], 1, 'ms'],\n"
    "    ['delay rise (queue)', ['delay_ms', 'rise'], 1, 'ms'], ['mouth to ear', ['mouth_to_ear_ms'], 0, 'ms'],\n"
    "    ['MOS', ['mos'], 2], ['R', ['r_factor'], 1]\n"
    "  ];\n"
    "  function table() {\n"
    "    var t = el('table', 'dirs'), head = el('tr');\n"
    "    head.appendChild(el('th', '', ''));\n"
    "    DIRS.forEach(function (d) { head.appendChild(el('th', '', d[1])); });\n"
    "    t.appendChild(head);\n"
    "    ROWS.forEach(function (row) {\n"
    "      var tr = el('tr');\n"
    "      tr.appendChild(el('th', '', row[0]));\n"
    "      DIRS.forEach(function (d) {\n"
    "        var v = pick(rep[d[0]], row[1]);\n"
    "        var td = el('td', 'n', typeof row[2] === 'function' ? row[2](v) : fmt(v, row[2], row[3]));\n"
    "        td.setAttribute('data-dir', d[0]);\n"
    "        td.setAttribute('data-key', row[1].join('.'));\n"
    "        tr.appendChild(td);\n"
    "      });\n"
    "      t.appendChild(tr);\n"
    "    });\n"
    "    var rtt = rep.rtt_ms, tr = el('tr'), td;\n"
    "    tr.appendChild(el('th', '', 'RTT min / avg / p95 / max'));\n"
    "    td = el('td', 'n', rtt ? [rtt.min, rtt.avg, rtt.p95, rtt.max].map(function (v) { return fmt(v, 2); }).join(' / ') + ' ms'\n"
    "                          : 'not measured');\n"
    "    td.colSpan = 2;\n"
    "    td.setAttribute('data-key', 'rtt_ms');\n"
    "    tr.appendChild(td);\n"
    "    t.appendChild(tr);\n"
    "    return t;\n"
    "  }\n"
    "  /* Per-second series: [[t, value or null], ...], one entry per second of the JSON. */\n"
    "  function lossOf(s) { var n = s.packets + s.lost; return n > 0 ? 100 * s.lost / n : null; }\n"
    "  function series(arr, f) {\n"
    "    return arr.map(function (s) { var v = f(s); return [s.t, num(v) ? v : null]; });\n"
    "  }\n"
    "  function niceMax(m) {\n"
    "    if (!(m > 0)) return 1;\n"
    "    var p = Math.pow(10, Math.floor(Math.log10(m))), r = m / p;\n"
    "    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * p;\n"
    "  }\n"
    "  var W = 720, H = 200, L = 56, R = 12, T = 12, B = 32;\n"
    "  function axes(svg, tmax, ymax, unit) {\n"
    "    var x0 = L, y0 = H - B, x1 = W - R, y1 = T;\n"
    "    svg.appendChild(sv('line', { x1: x0, y1: y0, x2: x1, y2: y0, 'class': 'axis' }));\n"
    "    svg.appendChild(sv('line', { x1: x0, y1: y0, x2: x0, y2: y1, 'class': 'axis' }));\n"
    "    for (var i = 0; i <= 4; i++) {\n"
    "      var y = y0 - (y0 - y1) * i / 4, v = ymax * i / 4;\n"
    "      svg.appendChild(sv('line', { x1: x0, y1: y, x2: x1, y2: y, 'class': 'grid' }));\n"
    "      svg.appendChild(sv('text', { x: x0 - 6, y: y + 4, 'text-anchor': 'end' }, +v.toPrecision(3) + (i === 4 ? ' ' + unit : '')));\n"
    "    }\n"
    "    var step = Math.max(1, Math.ceil(tmax / 10));\n"
    "    for (var t = 0; t <= tmax; t += step)\n"
    "      svg.appendChild(sv('text', { x: x0 + (x1 - x0) * t / tmax, y: y0 + 16, 'text-anchor': 'middle' }, t + ' s'));\n"
    "  }\n"
    "  function draw(svg, s, idx, tmax, ymax, unit, dec) {\n"
    "    var g = sv('g', { 'class': 'series s' + idx, 'data-series': s.name, 'data-n': 0 }), n = 0, pts = [];\n"
    "    function flush() {\n"
    "      if (pts.length > 1) g.appendChild(sv('polyline', { points: pts.join(' '), 'class': 'line' }));\n"
    "      pts = [];\n"
    "    }\n"
    "    s.data.forEach(function (p) {\n"
    "      if (p[1] === null) { flush(); return; }\n"
    "      var x = L + (W - R - L) * p[0] / tmax, y = H - B - (H - B - T) * Math.min(p[1], ymax) / ymax;\n"
    "      pts.push(x.toFixed(1) + ',' + y.toFixed(1));\n"
    "      var c = sv('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 2.5, 'class': 'pt' });\n"
    "      c.appendChild(sv('title', {}, s.name + ', t = ' + p[0] + ' s: ' + p[1].toFixed(dec) + ' ' + unit));\n"
    "      g.appendChild(c);\n"
    "      n++;\n"
    "    });\n"
    "    flush();\n"
    "    g.setAttribute('data-n', String(n));\n"
    "    svg.appendChild(g);\n"
    "  }\n"
    "  /* One time axis for every plot, so that a moment lines up across them. */\n"
    "  var TMAX = 1;\n"
    "  function plot(id, title, unit, dec, list) {\n"
    "    var fig = el('figure', 'plot'), tmax = TMAX, ymax = 0;\n"
    "    fig.id = id;\n"
    "    fig.appendChild(el('figcaption', '', title));\n"
    "    list.forEach(function (s) {\n"
    "      s.data.forEach(function (p) {\n"
    "        if (p[0] > tmax) tmax = p[0];\n"
    "        if (p[1] !== null && p[1] > ymax) ymax = p[1];\n"
    "      });\n"
    "    });\n"
    "    ymax = niceMax(ymax);\n"
    "    var svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img' });\n"
    "    svg.appendChild(sv('title', {}, title));\n"
    "    axes(svg, tmax, ymax, unit);\n"
    "    list.forEach(function (s, i) { draw(svg, s, i, tmax, ymax, unit, dec); });\n"
    "    fig.appendChild(svg);\n"
    "    var leg = el('p', 'legend');\n"
    "    list.forEach(function (s, i) { leg.appendChild(el('span', 'key s' + i, s.name)); });\n"
    "    if (!list.length) leg.textContent = 'not measured';\n"
    "    fig.appendChild(leg);\n"
    "    return fig;\n"
    "  }\n"
    "  function plots() {\n"
    "    var box = document.getElementById('plots');\n"
    "    var have = DIRS.filter(function (d) { return rep[d[0]] && Array.isArray(rep[d[0]].per_second); });\n"
    "    if (!have.length && !Array.isArray(rep.rtt_per_second)) {\n"
    "      box.appendChild(el('p', 'note', 'no per-second data in this report'));\n"
    "      box.lastChild.id = 'no-per-second';\n"
    "      return;\n"
    "    }\n"
    "    var rttps = Array.isArray(rep.rtt_per_second) ? rep.rtt_per_second : [];\n"
    "    have.map(function (d) { return rep[d[0]].per_second; }).concat([rttps])\n"
    "        .forEach(function (a) { a.forEach(function (s) { if (s.t > TMAX) TMAX = s.t; }); });\n"
    "    function dirs(f) {\n"
    "      return have.filter(function (d) { return rep[d[0]].per_second.length > 0; })\n"
    "                 .map(function (d) { return { name: d[0], data: series(rep[d[0]].per_second, f) }; });\n"
    "    }\n"
    "    box.appendChild(plot('plot-loss', 'Loss per second', '%', 1, dirs(lossOf)));\n"
    "    box.appendChild(plot('plot-jitter', 'Jitter (RFC 3550) at the end of each second', 'ms', 2,\n"
    "                         dirs(function (s) { return s.jitter_ms; })));\n"
    "    box.appendChild(plot('plot-delay', 'Delay above the lowest transit, mean per second', 'ms', 2,\n"
    "                         dirs(function (s) { return s.delay_ms; })));\n"
    "    var rtt = rttps.length ? [{ name: 'rtt', data: series(rttps, function (s) { return s.rtt_ms; }) }] : [];\n"
    "    box.appendChild(plot('plot-rtt', 'Round-trip time, mean per second', 'ms', 2, rtt));\n"
    "  }\n"
    "  document.getElementById('table').appendChild(table());\n"
    "  plots();\n"
    "  document.documentElement.setAttribute('data-rendered', 'yes');\n"
    "})();\n";

/* "'sha256-BASE64'" of s, the CSP source expression for an inline element whose
 * text is exactly s. */
static int csp_hash(const char *s, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1)
        return -1;
    EVP_EncodeBlock(b64, md, (int)mdlen);
    int n = snprintf(out, outlen, "'sha256-%s'", (const char *)b64);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Text as HTML character data or an attribute value: the five special characters
 * escaped, the rest (UTF-8 included) as it is. At most cap bytes of s. */
static void put_text(FILE *out, const char *s, size_t cap)
{
    for (size_t i = 0; i < cap && s[i]; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(s[i], out);
        }
    }
}

/* The JSON as the text of a <script> element. The HTML parser ends the element
 * at "</script" and changes state at "<!--" whatever JSON makes of them, so every
 * '<' (and '>', '&' for good measure) becomes its \u escape: in JSON these
 * characters occur only inside strings, where the escape means the same
 * character. U+2028 and U+2029 are escaped too: older JavaScript took them for
 * line ends in a string. */
static void put_json_in_script(FILE *out, const char *json, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)json[i];
        if (c == '<' || c == '>' || c == '&') {
            fprintf(out, "\\u%04x", c);
        } else if (c == 0xe2 && i + 2 < len && (unsigned char)json[i + 1] == 0x80 &&
                   ((unsigned char)json[i + 2] == 0xa8 || (unsigned char)json[i + 2] == 0xa9)) {
            fprintf(out, "\\u%04x", (unsigned char)json[i + 2] == 0xa8 ? 0x2028 : 0x2029);
            i += 2;
        } else {
            fputc(c, out);
        }
    }
}

static void put_head(const struct rp_report *r, FILE *out, const char *style_hash, const char *script_hash)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", out);
    /* default-src 'none': no fetch of any kind (images, fonts, frames, connections). */
    fprintf(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src %s; script-src %s; base-uri 'none'; form-action 'none'\">\n",
            style_hash, script_hash);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", out);
    fputs("<meta name=\"generator\" content=\"rtpprobe " RP_VERSION "\">\n<title>rtpprobe: ", out);
    fputs(rp_verdict_name(r->verdict), out);
    fputs(", ", out);
    put_text(out, r->server, sizeof r->server);
    fputs("</title>\n<style>", out);
    fputs(page_style, out);
    fputs("</style>\n</head>\n", out);
}

/* What the page says without JavaScript: the run and the verdict with its reasons. */
static void put_summary(const struct rp_report *r, FILE *out)
{
    const char *v = rp_verdict_name(r->verdict);
    fputs("<body>\n<h1>rtpprobe report</h1>\n<p class=\"meta\" id=\"meta\">", out);
    put_text(out, r->server, sizeof r->server);
    fputs(", session ", out);
    put_text(out, r->session_id[0] ? r->session_id : "-", sizeof r->session_id);
    fputs(", ", out);
    put_text(out, r->codec, sizeof r->codec);
    fprintf(out, " %u ms, ", r->ptime_ms);
    put_text(out, r->transport, sizeof r->transport);
    if (r->cipher[0]) {
        fputc(' ', out);
        put_text(out, r->cipher, sizeof r->cipher);
    }
    fprintf(out, ", %.1f s of media</p>\n", r->duration_s);
    fprintf(out, "<div class=\"box v-%s\">\n<p class=\"verdict\">Verdict: <strong id=\"verdict\">%s</strong>"
                 " &middot; diagnosis: <span id=\"diagnosis\">%s</span></p>\n",
            v, v, rp_diagnosis_name(r->diagnosis));
    fputs("<p>Cause: <span id=\"cause\">", out);
    put_text(out, r->cause, sizeof r->cause);
    fputs("</span></p>\n<p>Remediation: <span id=\"remediation\">", out);
    put_text(out, r->remediation, sizeof r->remediation);
    fputs("</span></p>\n", out);
    if (r->host_figures_error[0]) {
        fputs("<p>Media host's figures not used: <span id=\"host-figures-error\">", out);
        put_text(out, r->host_figures_error, sizeof r->host_figures_error);
        fputs("</span></p>\n", out);
    }
    fputs("</div>\n", out);
}

int rp_report_html(const struct rp_report *r, FILE *out)
{
    char style_hash[96], script_hash[96];
    char *json = NULL;
    size_t jlen = 0;
    FILE *mem = open_memstream(&json, &jlen);
    if (!mem)
        return -1;
    int rc = rp_report_print_json(r, mem);
    if (fclose(mem) != 0 || rc < 0 || csp_hash(page_style, style_hash, sizeof style_hash) < 0 ||
        csp_hash(page_script, script_hash, sizeof script_hash) < 0) {
        free(json);
        return -1;
    }
    put_head(r, out, style_hash, script_hash);
    put_summary(r, out);
    fputs("<h2>Per direction</h2>\n<div id=\"table\"><noscript><p class=\"note\">The table and the plots "
          "need JavaScript; the figures are in this page's source, as JSON.</p></noscript></div>\n"
          "<h2>Over the test's time</h2>\n<div id=\"plots\"></div>\n", out);
    /* The script takes the SVG namespace from this element: the page names no URL itself. */
    fputs("<svg id=\"svg-ns\" width=\"0\" height=\"0\" aria-hidden=\"true\"></svg>\n", out);
    fputs("<script type=\"application/json\" id=\"report\">", out);
    put_json_in_script(out, json, jlen);
    free(json);
    fputs("</script>\n<script>", out);
    fputs(page_script, out);
    fputs("</script>\n</body>\n</html>\n", out);
    return ferror(out) ? -1 : 0;
}

int rp_report_write_html(const struct rp_report *r, const char *path, char *err, size_t errlen)
{
    char *page = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&page, &len);
    if (!mem) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = rp_report_html(r, mem);
    if (fclose(mem) != 0 || rc < 0) {
        snprintf(err, errlen, "%s: cannot make the HTML report: out of memory", path);
        free(page);
        return -1;
    }
    /* Only a complete page replaces the old one. */
    rc = rp_file_replace(path, page, len, err, errlen);
    free(page);
    return rc;
}
