/* rtpprobe's browser pre-call test (docs/webrtc.md). Plain JavaScript, nothing fetched
 * but the media host's own API (connect-src 'self'); every string from the network is
 * shown with textContent, never as markup. */
(function () {
  'use strict';

  var CONNECT_TIMEOUT_MS = 15000;   /* offer answered to DTLS connected */
  var GATHER_TIMEOUT_MS = 3000;     /* ICE gathering: the daemon is ICE-lite and needs none */
  var FETCH_TIMEOUT_MS = 20000;
  var TAIL_MS = 1500;               /* at most, after sending stops: packets in flight land */
  var SIGNAL_LOOP_S = 2;            /* as the CLI: a 2 s loop of the synthetic talker */
  var SAMPLE_RATE = 48000;

  function $(id) { return document.getElementById(id); }
  function setState(s) { document.body.dataset.state = s; }
  function show(id, on) { $(id).hidden = !on; }
  function text(id, s) { $(id).textContent = s; }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  /* An error the agent can act on: what happened, and what to do. */
  function Failure(what, help) { this.what = what; this.help = help || ''; }

  /* ---- options: the token from the fragment (never sent to a server or logged),
   * the rest from the query. */
  function parseOptions() {
    var frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    var q = new URLSearchParams(location.search);
    var o = {
      token: frag.get('t') || '',
      codec: (q.get('codec') || 'opus').toLowerCase(),
      duration: null,
      relay: q.get('relay') === '1',
      mic: q.get('mic') === '1',
      agent: q.get('agent') || '',
      api: q.get('api') || '',
      /* ?start=auto: no click (a kiosk or an unattended check, where the
       * browser's autoplay policy lets audio start by itself) */
      auto: q.get('start') === 'auto'
    };
    if (o.codec !== 'opus' && o.codec !== 'pcmu')
      throw new Failure('The link asks for codec "' + o.codec + '", which this test does not know.',
                        'Use ?codec=opus or ?codec=pcmu, or leave it out (Opus).');
    if (q.get('duration') !== null) {
      o.duration = Number(q.get('duration'));
      if (!Number.isInteger(o.duration) || o.duration < 1 || o.duration > 600)
        throw new Failure('The link\'s duration "' + q.get('duration') + '" is not a whole number of seconds from 1 to 600.',
                          'Fix ?duration= in the link, or leave it out.');
    }
    if (!/^[A-Za-z0-9._-]{0,64}$/.test(o.agent))
      throw new Failure('The link\'s agent name may hold only letters, digits, ".", "_" and "-" (64 at most).',
                        'Fix ?agent= in the link, or leave it out.');
    /* The API's path on this origin: by default next to the page (through nginx
     * /rtpprobe/precall calls /rtpprobe/v1/webrtc); ?api=/path overrides it. */
    if (o.api && !/^\/[A-Za-z0-9._~\/-]*$/.test(o.api.replace(/\/\//g, '!')))
      throw new Failure('The link\'s ?api= must be a path on this site, such as /rtpprobe/.', 'Fix the link.');
    if (!o.token)
      throw new Failure('This page was opened without its access token (the part of the link after #t=).',
                        'Open the complete link you were sent (copy all of it), or ask your helpdesk for a new one.');
    return o;
  }

  function apiUrl(opts, path) {
    var base = opts.api ? opts.api.replace(/\/?$/, '/') : '';
    return new URL(base + path, location.href).href;
  }

  /* ---- the control API */
  function httpFailure(status, msg) {
    var said = msg ? ' It said: "' + msg + '".' : '';
    if (status === 401)
      return new Failure('The media host refused this link\'s token: it has expired or is not valid.' + said,
                         'Ask for a new link (they are valid for a short time only) and open it straight away.');
    if (status === 403)
      return new Failure('The media host does not allow this test from here.' + said, 'Tell your helpdesk.');
    if (status === 404)
      return new Failure('The media host does not offer the browser test (it is switched off there).', 'Tell your helpdesk.');
    if (status === 429)
      return new Failure('Too many tests from this network just now.' + said, 'Wait a minute, then reload the page.');
    if (status === 503)
      return new Failure('The media host is busy or not ready for a test (503).' + said,
                         'Try again in a minute; if it keeps failing, tell your helpdesk.');
    return new Failure('The media host answered with an error (' + status + ').' + said,
                       'Try again; if it keeps failing, tell your helpdesk and quote this message.');
  }

  async function api(opts, method, path, body) {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS);
    var init = { method: method, headers: { 'Authorization': 'Bearer ' + opts.token, 'Accept': 'application/json' },
                 cache: 'no-store', credentials: 'omit', redirect: 'error', signal: ctl.signal };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var res, data = null;
    try {
      res = await fetch(apiUrl(opts, path), init);
      var raw = await res.text();
      try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
    } catch (e) {
      if (e && e.name === 'AbortError')
        throw new Failure('The media host did not answer in time.', 'Check your connection and try again.');
      throw new Failure('This browser could not reach the media host (a network error).',
                        'Check your connection (and any proxy or VPN), then reload the page.');
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      var msg = data && typeof data.error === 'string' ? data.error.slice(0, 300) : '';
      throw httpFailure(res.status, msg);
    }
    if (data === null || typeof data !== 'object')
      throw new Failure('The media host\'s answer to ' + path + ' was not the JSON expected.', 'Tell your helpdesk.');
    return data;
  }

  /* ---- the CLI's synthetic talker (src/testsignal.c), the same algorithm and
   * constants: a harmonic source with a wandering pitch, two gliding vowel formants
   * and two fixed ones, a ≈4 Hz syllable envelope with pauses, a little noise.
   * Values as int16 would be, divided by 32768. */
  var VOWEL_F1 = [730, 270, 300, 530, 570, 660];
  var VOWEL_F2 = [1090, 2290, 870, 1840, 840, 1720];

  function TestSignal(fs, seed) {
    var s = this;
    s.fs = fs;
    var z = (seed + 0x9E3779B9) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85EBCA6B) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xC2B2AE35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    s.rng = z !== 0 ? z : 0x6D2B79F5;
    s.segLen = 0; s.segPos = 0; s.talking = false; s.sylLeft = 0;
    s.attack = 1; s.release = 1; s.sylGain = 0;
    s.phase = 0; s.f0 = 150; s.f0Start = 150; s.f0End = 150; s.f0Jitter = 0;
    s.f1 = s.f1t = VOWEL_F1[0]; s.f2 = s.f2t = VOWEL_F2[0];
    s.vowelSwitchAt = 0; s.blockPos = 0; s.nharm = 1;
    s.amp = new Float64Array(97);
    s.blockLen = s.ms(1);
    s.sylLeft = 1 + s.next() % 4;
    s.segLen = s.ms(40);
    s.updateVoice();
  }
  TestSignal.prototype.next = function () {
    var x = this.rng;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    this.rng = x;
    return x;
  };
  TestSignal.prototype.unit = function () { return (this.next() >>> 8) / 16777216; };
  TestSignal.prototype.range = function (lo, hi) { return lo + (hi - lo) * this.unit(); };
  TestSignal.prototype.ms = function (ms) { var n = ms * this.fs / 1000; return n < 1 ? 1 : Math.floor(n); };
  TestSignal.prototype.pickVowel = function () {
    var v = this.next() % 6;
    this.f1t = VOWEL_F1[v];
    this.f2t = VOWEL_F2[v];
  };
  TestSignal.prototype.nextSegment = function () {
    var s = this;
    s.segPos = 0;
    if (s.talking) {
      s.talking = false;
      if (s.sylLeft === 0) {
        s.segLen = s.ms(s.range(300, 700));
        s.sylLeft = 3 + s.next() % 6;
      } else {
        s.segLen = s.ms(s.range(30, 110));
      }
      return;
    }
    s.talking = true;
    s.sylLeft = (s.sylLeft - 1) >>> 0;
    s.segLen = s.ms(s.range(120, 260));
    s.attack = s.ms(s.range(15, 35));
    s.release = s.ms(s.range(30, 60));
    s.sylGain = Math.pow(10, s.range(-4, 2) / 20);
    var centre = s.range(110, 230);
    s.f0Start = centre * s.range(1, 1.08);
    s.f0End = centre * s.range(0.88, 1);
    s.pickVowel();
    s.vowelSwitchAt = s.next() % 3 === 0 ? Math.floor(s.segLen / 2) : 0;
  };
  TestSignal.prototype.envelope = function () {
    if (!this.talking) return 0;
    var pos = this.segPos;
    if (pos < this.attack) return 0.5 - 0.5 * Math.cos(Math.PI * pos / this.attack);
    var fromEnd = this.segLen - pos;
    if (fromEnd < this.release) return 0.5 - 0.5 * Math.cos(Math.PI * fromEnd / this.release);
    return 1;
  };
  function resonance(f, centre, bw) {
    var d = centre * centre - f * f;
    return centre * centre / Math.sqrt(d * d + bw * bw * f * f);
  }
  TestSignal.prototype.updateVoice = function () {
    var s = this;
    var progress = s.talking ? s.segPos / s.segLen : 1;
    s.f0Jitter += s.range(-0.01, 0.01);
    s.f0Jitter *= 0.98;
    var f0 = (s.f0Start + (s.f0End - s.f0Start) * progress) * (1 + s.f0Jitter);
    s.f0 = Math.min(260, Math.max(95, f0));
    if (s.talking && s.vowelSwitchAt !== 0 && s.segPos >= s.vowelSwitchAt) {
      s.pickVowel();
      s.vowelSwitchAt = 0;
    }
    s.f1 += (s.f1t - s.f1) * 0.05;
    s.f2 += (s.f2t - s.f2) * 0.05;
    var n = Math.floor(Math.min(7000, 0.45 * s.fs) / s.f0);
    s.nharm = Math.max(1, Math.min(96, n));
    var power = 0, sumAbs = 0, k;
    for (k = 1; k <= s.nharm; k++) {
      var f = k * s.f0;
      var a = (1 / k) * resonance(f, s.f1, 80) * resonance(f, s.f2, 100) *
              resonance(f, 2500, 150) * resonance(f, 3500, 250);
      s.amp[k] = a;
      power += 0.5 * a * a;
      sumAbs += a;
    }
    var scale = 32768 * Math.pow(10, -17.9 / 20) / Math.sqrt(power);
    if (scale * sumAbs > 0.84 * 32768) scale = 0.84 * 32768 / sumAbs;
    for (k = 1; k <= s.nharm; k++) s.amp[k] *= scale;
  };
  TestSignal.prototype.fill = function (out) {
    var s = this;
    var floorAmp = 32768 * Math.pow(10, -66 / 20) * Math.sqrt(3);
    var breath = 32768 * Math.pow(10, (-17.9 - 30) / 20) * Math.sqrt(3);
    for (var i = 0; i < out.length; i++) {
      if (s.segPos >= s.segLen) s.nextSegment();
      if (s.blockPos === 0) s.updateVoice();
      if (++s.blockPos >= s.blockLen) s.blockPos = 0;
      var env = s.envelope() * s.sylGain, voiced = 0;
      if (env > 0) {
        var c2 = 2 * Math.cos(s.phase), prev = 0, cur = Math.sin(s.phase);
        for (var k = 1; k <= s.nharm; k++) {
          voiced += s.amp[k] * cur;
          var nx = c2 * cur - prev;
          prev = cur;
          cur = nx;
        }
      }
      var asp = breath * s.range(-1, 1);
      var y = env * (voiced + asp) + floorAmp * s.range(-1, 1);
      s.phase += 2 * Math.PI * s.f0 / s.fs;
      if (s.phase >= 2 * Math.PI) s.phase -= 2 * Math.PI;
      s.segPos++;
      var v = Math.round(y);
      out[i] = Math.max(-32768, Math.min(32767, v)) / 32768;
    }
  };

  /* ---- audio: the synthetic talker (or the microphone) into a track, with an
   * analyser for the self-test. */
  async function makeAudio(opts, run) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) throw new Failure('This browser has no Web Audio.', 'Use a current Chrome, Edge or Firefox.');
    var ctx = new Ctx({ sampleRate: SAMPLE_RATE });
    run.audioCtx = ctx;
    /* resume() waits for a user gesture when the browser wants one: bounded, and the
     * self-test below then finds the signal silent and says so. */
    if (ctx.state !== 'running') await Promise.race([ctx.resume(), sleep(3000)]);
    var src;
    if (opts.mic) {
      try {
        run.micStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      } catch (e) {
        throw new Failure('The browser was not allowed to use the microphone (' + (e && e.name || 'error') + ').',
                          'Allow the microphone for this page, or open the link without ?mic=1 to use the synthetic voice.');
      }
      src = ctx.createMediaStreamSource(run.micStream);
      run.sendStream = run.micStream; /* sent as it is: the graph below only listens */
    } else {
      var buf = ctx.createBuffer(1, SIGNAL_LOOP_S * ctx.sampleRate, ctx.sampleRate);
      var seed = new Uint32Array(1);
      crypto.getRandomValues(seed);
      new TestSignal(ctx.sampleRate, seed[0]).fill(buf.getChannelData(0));
      src = ctx.createBufferSource();
      src.buffer = buf;
      src.loop = true;
      src.start();
    }
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    var dest = ctx.createMediaStreamDestination();
    src.connect(analyser);
    analyser.connect(dest);
    run.analyser = analyser;
    return run.sendStream || dest.stream;
  }

  /* Self-test: the RMS of what goes into the track over 200 ms (the talker's pauses
   * keep a -66 dBov noise floor, so a working graph is never exactly 0). */
  async function signalRms(run) {
    var a = run.analyser, buf = new Float32Array(a.fftSize), sum = 0, n = 0;
    for (var t = 0; t < 5; t++) {
      await sleep(40);
      a.getFloatTimeDomainData(buf);
      for (var i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
      n += buf.length;
    }
    var rms = Math.sqrt(sum / n);
    var el = $('signal-rms');
    el.dataset.rms = String(rms);
    el.textContent = rms > 0 ? (20 * Math.log10(rms * Math.SQRT2)).toFixed(1) + ' dBov (RMS over 200 ms)' : 'silent';
    return rms;
  }

  /* ---- WebRTC */
  function preferCodecs(tr, codec) {
    if (typeof tr.setCodecPreferences !== 'function' || !window.RTCRtpReceiver ||
        typeof RTCRtpReceiver.getCapabilities !== 'function')
      return;
    var caps = RTCRtpReceiver.getCapabilities('audio');
    if (!caps || !caps.codecs) return;
    function is(c, name, rate) { return c.mimeType.toLowerCase() === 'audio/' + name && c.clockRate === rate; }
    var opus = caps.codecs.filter(function (c) { return is(c, 'opus', 48000); });
    var pcmu = caps.codecs.filter(function (c) { return is(c, 'pcmu', 8000); });
    var list = codec === 'pcmu' ? pcmu.concat(opus) : opus.concat(pcmu);
    if (list.length) tr.setCodecPreferences(list);
  }

  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === 'complete') return resolve();
      var timer = setTimeout(done, GATHER_TIMEOUT_MS);
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      function check() { if (pc.iceGatheringState === 'complete') done(); }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /* The remote audio is consumed (a muted element), so that the browser decodes and
   * plays it out: only then does inbound-rtp count samples and concealment. */
  function attachRemote(ev) {
    var sink = $('sink');
    sink.muted = true;
    sink.srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
    var p = sink.play();
    if (p && typeof p.catch === 'function') p.catch(function () { /* muted: allowed; a refusal only loses playout stats */ });
  }

  /* ---- getStats() into the stats POST body (docs/webrtc.md). */
  var NUMS = {
    outbound: ['packetsSent', 'bytesSent', 'headerBytesSent', 'retransmittedPacketsSent', 'totalPacketSendDelay'],
    inbound: ['packetsReceived', 'packetsLost', 'packetsDiscarded', 'jitter', 'jitterBufferDelay',
              'jitterBufferTargetDelay', 'jitterBufferMinimumDelay', 'jitterBufferEmittedCount',
              'concealedSamples', 'silentConcealedSamples', 'concealmentEvents', 'totalSamplesReceived',
              'insertedSamplesForDeceleration', 'removedSamplesForAcceleration', 'bytesReceived',
              'headerBytesReceived', 'fecPacketsReceived', 'totalSamplesDuration', 'timestamp',
              'lastPacketReceivedTimestamp'],
    remote_inbound: ['roundTripTime', 'totalRoundTripTime', 'roundTripTimeMeasurements', 'packetsLost',
                     'fractionLost', 'jitter'],
    pair: ['currentRoundTripTime', 'totalRoundTripTime', 'responsesReceived', 'requestsSent',
           'packetsSent', 'packetsReceived', 'bytesSent', 'bytesReceived']
  };
  function pickNums(s, keys) {
    var o = {};
    keys.forEach(function (k) { if (typeof s[k] === 'number' && isFinite(s[k])) o[k] = s[k]; });
    return o;
  }
  function isAudio(s) { return (s.kind || s.mediaType) === 'audio'; }
  function hostPort(c) {
    if (!c || !c.address) return '';
    var a = String(c.address);
    return (a.indexOf(':') >= 0 ? '[' + a + ']' : a) + (c.port !== undefined ? ':' + c.port : '');
  }
  function candidate(c) {
    var o = {};
    if (!c) return o;
    ['candidateType', 'protocol', 'relayProtocol', 'address', 'port', 'networkType', 'url'].forEach(function (k) {
      if (c[k] !== undefined && c[k] !== null) o[k] = c[k];
    });
    return o;
  }
  function selectedPair(stats) {
    var pair = null;
    stats.forEach(function (s) {
      if (s.type === 'transport' && s.selectedCandidatePairId && stats.get(s.selectedCandidatePairId))
        pair = stats.get(s.selectedCandidatePairId);
    });
    if (pair) return pair;
    stats.forEach(function (s) {
      if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded')))
        pair = pair || s;
    });
    return pair;
  }
  function collect(stats) {
    var body = { user_agent: navigator.userAgent.slice(0, 159) };
    stats.forEach(function (s) {
      if (s.type === 'outbound-rtp' && isAudio(s)) body.outbound = pickNums(s, NUMS.outbound);
      else if (s.type === 'inbound-rtp' && isAudio(s)) body.inbound = pickNums(s, NUMS.inbound);
      else if (s.type === 'remote-inbound-rtp' && isAudio(s)) body.remote_inbound = pickNums(s, NUMS.remote_inbound);
      else if (s.type === 'remote-outbound-rtp' && isAudio(s)) body.remote_outbound = pickNums(s, ['timestamp', 'remoteTimestamp', 'reportsSent']);
      else if (s.type === 'transport') body.transport = { dtlsState: s.dtlsState || '', iceState: s.iceState || '' };
    });
    /* Every pair's connectivity checks: before a handshake, the only packets. */
    var checks = { requestsSent: 0, responsesReceived: 0 };
    stats.forEach(function (s) {
      if (s.type !== 'candidate-pair') return;
      if (num(s.requestsSent)) checks.requestsSent += s.requestsSent;
      if (num(s.responsesReceived)) checks.responsesReceived += s.responsesReceived;
    });
    body.checks = checks;
    var p = selectedPair(stats);
    if (p) {
      var l = stats.get(p.localCandidateId), r = stats.get(p.remoteCandidateId);
      var pair = pickNums(p, NUMS.pair);
      pair.state = p.state || '';
      pair.nominated = !!p.nominated;
      pair.local = candidate(l);
      pair.remote = candidate(r);
      /* The same, flat: what the report needs. */
      pair.local_type = l && l.candidateType || '';
      pair.remote_type = r && r.candidateType || '';
      pair.relay_protocol = l && l.candidateType === 'relay' && l.relayProtocol || '';
      pair.local_address = hostPort(l);
      pair.remote_address = hostPort(r);
      body.pair = pair;
    }
    return body;
  }

  function fmtState(s) { return s ? String(s) : '–'; }
  /* Each of the host's sender reports once (about one a second): when it
   * arrived (its remote-outbound-rtp timestamp) less when the host sent it
   * (remoteTimestamp, from the SR's NTP time). The clocks' offset is in each
   * one alike, so how this rises is downstream's queue (docs/webrtc.md). */
  function noteSr(run, ro) {
    if (!ro || !num(ro.timestamp) || !num(ro.remoteTimestamp) || !num(ro.reportsSent)) return;
    run.srDelays = run.srDelays || [];
    if (ro.reportsSent === run.lastSr || run.srDelays.length >= 120) return;
    run.lastSr = ro.reportsSent;
    run.srDelays.push(Math.round((ro.timestamp - ro.remoteTimestamp) * 1000) / 1000);
  }

  async function liveFigures(run) {
    var stats = await run.pc.getStats();
    var b = collect(stats);
    text('live-ice', fmtState(run.pc.iceConnectionState));
    text('live-dtls', fmtState(b.transport && b.transport.dtlsState || run.pc.connectionState));
    text('live-sent', b.outbound && b.outbound.packetsSent !== undefined ? String(b.outbound.packetsSent) : '0');
    text('live-recv', b.inbound && b.inbound.packetsReceived !== undefined ? String(b.inbound.packetsReceived) : '0');
    /* A browser that stamps remote-outbound-rtp with the reading's time, not
     * the report's arrival, would add up to a second of noise: left out. */
    if (!(b.inbound && b.remote_outbound && b.remote_outbound.timestamp === b.inbound.timestamp))
      noteSr(run, b.remote_outbound);
    return b;
  }

  /* Once the sender stopped: its count stands still for 100 ms (the encoder's
   * last frame is out), at most TAIL_MS. */
  async function settled(run) {
    var t0 = performance.now(), before = -1;
    for (;;) {
      var b = await liveFigures(run);
      var n = b.outbound && num(b.outbound.packetsSent) ? b.outbound.packetsSent : 0;
      if (n === before || performance.now() - t0 > TAIL_MS) return;
      before = n;
      await sleep(100);
    }
  }

  /* Until every packet the host sent is received or known lost, at most TAIL_MS. */
  async function arrived(run, sent) {
    var t0 = performance.now();
    for (;;) {
      var b = await liveFigures(run), i = b.inbound || {};
      var seen = (num(i.packetsReceived) ? i.packetsReceived : 0) + (num(i.packetsLost) ? Math.max(i.packetsLost, 0) : 0);
      if (seen >= sent || performance.now() - t0 > TAIL_MS) return;
      await sleep(50);
    }
  }

  /* Resolves 'connected', or a reason: 'ice-failed', 'dtls-failed', 'timeout'. */
  function connected(pc) {
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { finish('timeout'); }, CONNECT_TIMEOUT_MS);
      function finish(r) {
        clearTimeout(timer);
        pc.removeEventListener('connectionstatechange', check);
        pc.removeEventListener('iceconnectionstatechange', check);
        resolve(r);
      }
      function check() {
        if (pc.connectionState === 'connected') finish('connected');
        else if (pc.iceConnectionState === 'failed') finish('ice-failed');
        else if (pc.connectionState === 'failed') finish('dtls-failed');
      }
      pc.addEventListener('connectionstatechange', check);
      pc.addEventListener('iceconnectionstatechange', check);
      check();
    });
  }

  var WHY = {
    'ice-failed': ['The browser could not reach the media host\'s UDP media port (ICE failed).',
                   'A firewall or the router probably blocks UDP to the media host\'s ports: ask IT to allow it (or to set up the TURN relay).'],
    'dtls-failed': ['The media host was reached, but the encrypted handshake (DTLS) failed.',
                    'Something on the way changes or drops the encrypted packets (a VPN or security appliance?): tell your helpdesk.'],
    'timeout': ['The connection to the media host was not set up within ' + CONNECT_TIMEOUT_MS / 1000 + ' s.',
                'UDP to the media host is probably blocked or very slow: ask IT to check the firewall, or try another network.']
  };

  function phase(s) { text('phase', s); }

  async function runMedia(run, duration) {
    var p = $('progress');
    p.max = duration;
    p.value = 0;
    var t0 = performance.now(), last = null;
    for (;;) {
      var el = (performance.now() - t0) / 1000;
      if (el >= duration) break;
      p.value = el;
      phase('Sending and receiving audio: ' + Math.floor(el) + ' of ' + duration + ' s');
      last = await liveFigures(run);
      await sleep(1000 - (performance.now() - t0) % 1000);
    }
    p.value = duration;
    return last;
  }

  async function test(opts, run) {
    setState('running');
    show('start', false);
    show('run', true);
    phase('Asking the media host for the test\'s settings…');
    var cfg = await api(opts, 'GET', 'v1/webrtc/config');
    var duration = opts.duration || (Number.isInteger(cfg.duration) && cfg.duration > 0 ? cfg.duration : 15);
    text('duration-text', String(duration));
    if (!window.RTCPeerConnection)
      throw new Failure('This browser does not support WebRTC.', 'Use a current Chrome, Edge or Firefox.');

    phase('Preparing the test signal…');
    var stream = await makeAudio(opts, run);
    /* The microphone's track is sent as it is: with the audio engine not
     * running (a machine without a sound device) only its self-test is lost. */
    var rms = run.rms = await signalRms(run);
    if (!(rms > 0) && !(opts.mic && run.audioCtx.state !== 'running'))
      throw new Failure('The browser produced no test audio (its audio engine did not start).',
                        'Reload the page and press "Start the test" again.');

    phase('Gathering network addresses…');
    var servers = Array.isArray(cfg.ice_servers) ? cfg.ice_servers : [];
    if (opts.relay && !servers.some(function (sv) {
      return [].concat(sv && sv.urls || []).some(function (u) { return /^turns?:/.test(String(u)); });
    }))
      throw new Failure('The link asks to test through the relay (?relay=1), but the media host offers no TURN relay.',
                        'Open the link without ?relay=1, or ask your helpdesk to set up the relay.');
    var pc = run.pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: opts.relay ? 'relay' : 'all' });
    pc.addEventListener('track', attachRemote);
    var track = stream.getAudioTracks()[0];
    var tr = pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    preferCodecs(tr, opts.codec);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);

    phase('Starting the test on the media host…');
    var req = { sdp: pc.localDescription.sdp, codec: opts.codec, duration: duration };
    if (opts.agent) req.agent = opts.agent;
    var ans = await api(opts, 'POST', 'v1/webrtc', req);
    if (typeof ans.id !== 'string' || !/^[0-9a-f]{32}$/.test(ans.id) || typeof ans.sdp !== 'string')
      throw new Failure('The media host\'s answer had no session or no SDP.', 'Tell your helpdesk.');
    run.id = ans.id;
    text('dbg-session', ans.id);
    text('dbg-codec', String(ans.codec || opts.codec));
    if (Number.isInteger(ans.duration) && ans.duration > 0) duration = ans.duration;
    await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });

    phase('Connecting to the media host…');
    var how = await connected(pc);
    if (how === 'connected') {
      await runMedia(run, duration);
      /* Sending stops here, so the browser's count and the host's can agree. */
      await tr.sender.replaceTrack(null);
      phase('Waiting for the last packets…');
      await settled(run);
      /* The host stops too and says how many it sent: the figures are read
       * once those arrived (or TAIL_MS passed), so that no packet still in
       * flight is counted lost, and none sent after the reading is either. */
      var stop = await api(opts, 'POST', 'v1/webrtc/' + run.id + '/stop', {});
      await arrived(run, Number(stop.downstream_sent) || 0);
    }
    var body = await liveFigures(run);
    delete body.transport;
    body.remote_outbound = { delays_ms: run.srDelays || [] };
    phase('Computing the report…');
    var report = await api(opts, 'POST', 'v1/webrtc/' + run.id + '/stats', body);
    return { report: report, browserStats: body, notice: how === 'connected' ? null : WHY[how] };
  }

  /* ---- the result, drawn from the report JSON (docs/report.schema.json) as the CLI's
   * --html report does (src/htmlreport.c): DOM calls and textContent only. */
  function num(v) { return typeof v === 'number' && isFinite(v); }
  function fmt(v, dec, unit) { return num(v) ? v.toFixed(dec) + (unit ? ' ' + unit : '') : '–'; }
  function pick(o, path) {
    for (var i = 0; i < path.length; i++) {
      if (o === null || typeof o !== 'object') return null;
      o = o[path[i]];
    }
    return o === undefined ? null : o;
  }
  function el(tag, txt) { var e = document.createElement(tag); if (txt !== undefined) e.textContent = txt; return e; }

  var DIRS = [['upstream', 'Upstream (you → media host)'], ['downstream', 'Downstream (media host → you)']];
  var ROWS = [
    ['Packet loss', ['loss_pct'], 2, '%'],
    ['Late packets (jitter buffer)', ['late'], 0, ''],
    ['Jitter', ['jitter_ms'], 1, 'ms'],
    ['Mouth-to-ear delay', ['mouth_to_ear_ms'], 0, 'ms'],
    ['Delay rise (queueing)', ['delay_ms', 'rise'], 1, 'ms'],
    /* the browser's own lateness (a busy computer), apart from the network's queue */
    ['Sent late by this computer', ['delay_ms', 'sender_lag'], 0, 'ms'],
    ['MOS (1–4.5)', ['mos'], 2, '']
  ];
  function table(rep) {
    var t = el('table'), thead = el('thead'), tb = el('tbody'), head = el('tr');
    t.className = 'dirs';
    head.appendChild(el('th', ''));
    DIRS.forEach(function (d) { var th = el('th', d[1]); th.scope = 'col'; head.appendChild(th); });
    thead.appendChild(head);
    t.appendChild(thead);
    ROWS.forEach(function (row) {
      var tr = el('tr'), th = el('th', row[0]);
      th.scope = 'row';
      tr.appendChild(th);
      DIRS.forEach(function (d) {
        var td = el('td', fmt(pick(rep[d[0]], row[1]), row[2], row[3]));
        td.dataset.dir = d[0];
        td.dataset.key = row[1].join('.');
        tr.appendChild(td);
      });
      tb.appendChild(tr);
    });
    var tr = el('tr'), th = el('th', 'Round-trip time (avg / max)'), rtt = rep.rtt_ms;
    th.scope = 'row';
    tr.appendChild(th);
    var td = el('td', rtt && num(rtt.avg) ? fmt(rtt.avg, 1) + ' / ' + fmt(rtt.max, 1, 'ms') : 'not measured');
    td.colSpan = 2;
    td.dataset.key = 'rtt_ms';
    tr.appendChild(td);
    tb.appendChild(tr);
    t.appendChild(tb);
    return t;
  }
  var PATHS = { 'direct': 'Direct UDP to the media host', 'turn-udp': 'Through the TURN relay (UDP)',
                'turn-tcp': 'Through the TURN relay (TCP)', 'turns': 'Through the TURN relay (TLS)' };
  function pathText(rep, b) {
    var s = PATHS[rep.path] || String(rep.path || 'unknown');
    var p = b && b.pair;
    if (p && (p.local_type || p.remote_type))
      s += '. Candidate pair: ' + (p.local_type || '?') + (p.local_address ? ' ' + p.local_address : '') + ' → ' +
           (p.remote_type || '?') + (p.remote_address ? ' ' + p.remote_address : '') +
           (p.relay_protocol ? ' (relay over ' + p.relay_protocol + ')' : '');
    else
      s += '. No candidate pair was selected: the browser never connected';
    return s + '.';
  }
  function render(res) {
    var rep = res.report, v = ['pass', 'warn', 'fail', 'unknown'].indexOf(rep.verdict) >= 0 ? rep.verdict : 'unknown';
    $('verdict-box').className = 'box v-' + v;
    text('verdict', v);
    text('diagnosis', String(rep.diagnosis || '–'));
    text('cause', String(rep.cause || '–'));
    text('remediation', String(rep.remediation || '–'));
    if (res.notice) {
      text('notice', res.notice[0] + ' ' + res.notice[1]);
      show('notice', true);
    }
    var box = $('table');
    while (box.firstChild) box.removeChild(box.firstChild);
    box.appendChild(table(rep));
    text('path', pathText(rep, res.browserStats));
    text('dbg-pair', res.browserStats.pair ? (res.browserStats.pair.local_address || '?') + ' → ' +
         (res.browserStats.pair.remote_address || '?') : 'none');
    $('download').addEventListener('click', function () { download(rep); });
    show('run', false);
    show('result', true);
    $('result').scrollIntoView({ block: 'start' });
  }
  function download(rep) {
    var json = JSON.stringify(rep, null, 2) + '\n';
    var blob = new Blob([json], { type: 'application/json' });
    window.rtpprobeDebug.download = json;
    var a = $('download-link');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    var id = typeof rep.session_id === 'string' ? rep.session_id.replace(/[^0-9a-f]/g, '').slice(0, 32) : '';
    a.download = 'rtpprobe-precall' + (id ? '-' + id : '') + '.json';
    a.click();
  }

  function fail(e, run) {
    var f = e instanceof Failure ? e
          : new Failure('The test stopped on an unexpected error: ' + (e && e.message ? e.message : String(e)) + '.',
                        'Reload the page and try again; if it keeps failing, tell your helpdesk and quote this message.');
    text('error-text', f.what);
    text('error-help', f.help);
    show('run', false);
    show('start', false);
    show('error', true);
    window.rtpprobeResult = { report: null, browserStats: null, error: f.what, signalRms: run && run.rms };
    setState('error');
  }

  function cleanup(run) {
    try { if (run.pc) run.pc.close(); } catch (e) { /* closing is best effort */ }
    if (run.micStream) run.micStream.getTracks().forEach(function (t) { t.stop(); });
    if (run.audioCtx && run.audioCtx.state !== 'closed') run.audioCtx.close().catch(function () {});
  }

  /* For tests (tests/webrtc/stub_check.py): the talker as the C code makes it
   * (int16 values), and the stats body from a getStats() report. */
  window.rtpprobeDebug = {
    signal: function (rate, seed, n) {
      var out = new Float32Array(n);
      new TestSignal(rate, seed >>> 0).fill(out);
      return Array.prototype.map.call(out, function (x) { return Math.round(x * 32768); });
    },
    collect: collect
  };

  var opts;
  try {
    opts = parseOptions();
  } catch (e) {
    fail(e, null);
    return;
  }
  if (opts.duration) text('duration-text', String(opts.duration));
  var btn = $('start');
  btn.hidden = false;
  setState('ready');
  async function start() {
    btn.disabled = true;
    var run = {};
    try {
      var res = await test(opts, run);
      window.rtpprobeResult = { report: res.report, browserStats: res.browserStats, signalRms: run.rms };
      render(res);
      setState('done');
    } catch (e) {
      fail(e, run);
    } finally {
      cleanup(run);
    }
  }
  btn.addEventListener('click', start);
  if (opts.auto)
    start();
})();
