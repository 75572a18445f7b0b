// The practice page: rounds of faces from deck.js (window.PRACTICE_DECK), an answer per face, feedback with the
// movements behind the true emotion, a summary per round, and progress kept in this browser (localStorage).
"use strict";
(function () {
  const deck = window.PRACTICE_DECK;
  const STORE = "face-emotion-practice";
  const $ = (id) => document.getElementById(id);
  const state = { level: null, round: [], index: 0, answers: [] };

  function shuffle(items) {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

  // Saved progress; anything else under its key (damaged, another version's) counts as none.
  function loadSaved() {
    let saved;
    try { saved = JSON.parse(localStorage.getItem(STORE)); } catch (error) { return {}; }
    if (!isObject(saved)) return {};
    if (!isObject(saved.totals)) delete saved.totals;
    return saved;
  }

  function save(data) {
    try { localStorage.setItem(STORE, JSON.stringify(data)); } catch (error) { /* private mode: not kept */ }
  }

  function note(text) {
    const list = $("notes");
    list.appendChild(element("li", text));
    list.hidden = false;
  }

  function levelFaces(name) {
    const level = deck.levels.find((l) => l.name === name);
    return level ? level.faces : [];
  }

  function show(section) {
    for (const id of ["question", "feedback", "summary", "empty"]) $(id).hidden = id !== section;
  }

  // A round: up to round_length faces, taken in turn from each emotion of the level (so every emotion comes up),
  // in random order.
  function buildRound(name) {
    const byEmotion = new Map();
    for (const id of levelFaces(name)) {
      const emotion = deck.faces[id].emotion;
      if (!byEmotion.has(emotion)) byEmotion.set(emotion, []);
      byEmotion.get(emotion).push(id);
    }
    const pools = shuffle([...byEmotion.values()].map(shuffle));
    const length = Math.min(deck.round_length, pools.reduce((n, pool) => n + pool.length, 0));
    const picked = [];
    for (let turn = 0; picked.length < length; turn++) {
      const pool = pools[turn % pools.length];
      if (pool.length) picked.push(pool.pop());
    }
    return shuffle(picked);
  }

  function startRound(name) {
    state.level = name;
    state.round = buildRound(name);
    state.index = 0;
    state.answers = [];
    for (const button of $("levels").querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.level === name));
    }
    const saved = loadSaved();
    saved.level = name;
    save(saved);
    if (state.round.length === 0) { show("empty"); return; }
    showQuestion();
  }

  function showQuestion() {
    if (state.index >= state.round.length) { showSummary(); return; }
    const face = deck.faces[state.round[state.index]];
    const image = $("face");
    image.onerror = () => {
      note(`The image of face ${face.id} (${face.image}) is missing, so it was skipped.`);
      state.round.splice(state.index, 1);
      showQuestion();
    };
    image.alt = `Face ${state.index + 1} of ${state.round.length}` +
      (face.masked ? ", wearing a mask over the mouth and nose" : "") + ": which emotion is it?";
    image.src = face.image;
    $("round-progress").textContent =
      `${levelTitle(state.level)}: face ${state.index + 1} of ${state.round.length}`;
    show("question");
  }

  function levelTitle(name) {
    return deck.levels.find((l) => l.name === name).title;
  }

  function answer(emotion) {
    if ($("question").hidden) return;
    const face = deck.faces[state.round[state.index]];
    const right = emotion === face.emotion;
    state.answers.push({ emotion: face.emotion, answer: emotion });
    const saved = loadSaved();
    saved.totals = saved.totals || {};
    if (!isObject(saved.totals[state.level])) saved.totals[state.level] = {};
    const level = saved.totals[state.level];
    const kept = level[face.emotion];
    const tally = (level[face.emotion] = isObject(kept) && Number.isFinite(kept.seen) && Number.isFinite(kept.right)
      ? kept : { seen: 0, right: 0 });
    tally.seen += 1;
    tally.right += right ? 1 : 0;
    save(saved);
    showFeedback(face, emotion, right);
  }

  function showFeedback(face, chosen, right) {
    $("verdict").textContent = right
      ? `\u2713 Right: this face is ${face.emotion}.`
      : `\u2717 Not quite: this face is ${face.emotion}. You chose ${chosen}.`;
    const marked = $("marked");
    marked.onerror = () => {
      note(`The marked picture of face ${face.id} is missing: its movements are named below.`);
      marked.onerror = null;
      marked.src = face.image;
    };
    marked.src = face.marked || face.image;
    marked.alt = face.marked_alt || `The ${face.emotion} face`;
    $("unmasked-figure").hidden = !face.unmasked;
    if (face.unmasked) $("unmasked").src = face.unmasked;
    const cues = $("cues");
    cues.replaceChildren();
    for (const cue of face.cues) {
      const item = element("li", undefined, cue.sign === "+" ? "raises" : "lowers");
      item.appendChild(element("span", cue.sign === "+" ? "+ " : "\u2212 ", "sign"));
      item.appendChild(element("span", cue.sign === "+" ? `shows ${face.emotion}: ` : `against ${face.emotion}: `,
                               "visually-hidden"));
      item.appendChild(element("strong", cue.region));
      item.appendChild(document.createTextNode(": "));
      cue.movements.forEach((words, i) => {
        if (i > 0) item.appendChild(document.createTextNode("; "));
        item.appendChild(document.createTextNode(words));
        if (cue.typical[i]) item.appendChild(element("strong", ` \u2605 typical of ${face.emotion}`, "typical"));
      });
      cues.appendChild(item);
    }
    $("hidden-mouth").textContent = face.hidden_mouth;
    $("hidden-mouth").hidden = !face.hidden_mouth;
    $("next").textContent = state.index + 1 < state.round.length ? "Next face" : "See how the round went";
    show("feedback");
    $("next").focus();
  }

  function showSummary() {
    const right = state.answers.filter((a) => a.answer === a.emotion).length;
    $("summary-title").textContent = state.answers.length
      ? `Round done: ${right} of ${state.answers.length} right`
      : "No face of this round could be shown: see the notes.";
    const rows = $("summary-rows");
    rows.replaceChildren();
    let weakest = null;
    for (const emotion of deck.classes) {
      const mine = state.answers.filter((a) => a.emotion === emotion);
      if (!mine.length) continue;
      const hits = mine.filter((a) => a.answer === emotion).length;
      const taken = {};
      for (const a of mine) if (a.answer !== emotion) taken[a.answer] = (taken[a.answer] || 0) + 1;
      const row = element("tr");
      row.appendChild(element("th", emotion)).setAttribute("scope", "row");
      row.appendChild(element("td", `${hits} of ${mine.length}`));
      row.appendChild(element("td", Object.entries(taken).map(([e, n]) => `${e} (${n})`).join(", ") || "\u2014"));
      rows.appendChild(row);
      const share = hits / mine.length;
      if (share < 1 && (weakest === null || share < weakest.share)) weakest = { emotion, share };
    }
    $("suggestion").textContent = weakest
      ? `Practise ${weakest.emotion} next. Look for: ${deck.look_for[weakest.emotion]}.`
      : state.answers.length ? "Every face right: try another level." : "";
    show("summary");
    renderSaved();
    $("again").focus();
  }

  function renderSaved() {
    const totals = loadSaved().totals || {};
    const levels = deck.levels.filter((l) => totals[l.name]);
    $("saved-table").hidden = levels.length === 0;
    $("saved-empty").hidden = levels.length > 0;
    const head = element("tr");
    head.appendChild(element("th", "Emotion")).setAttribute("scope", "col");
    for (const level of levels) head.appendChild(element("th", level.title)).setAttribute("scope", "col");
    $("saved-head").replaceChildren(head);
    const rows = $("saved-rows");
    rows.replaceChildren();
    for (const emotion of deck.classes) {
      const row = element("tr");
      row.appendChild(element("th", emotion)).setAttribute("scope", "row");
      for (const level of levels) {
        const tally = isObject(totals[level.name]) ? totals[level.name][emotion] : null;
        row.appendChild(element("td", isObject(tally) ? `${tally.right} of ${tally.seen}` : "\u2014"));
      }
      rows.appendChild(row);
    }
  }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || $("question").hidden) return;
    const number = Number.parseInt(event.key, 10);
    if (number >= 1 && number <= deck.classes.length) {
      event.preventDefault();
      answer(deck.classes[number - 1]);
    }
  }

  function init() {
    if (!deck || deck.format !== 1) {
      document.querySelector("main").prepend(element("p", "The deck (deck.js) is missing or from another version: " +
        "rebuild it with 'dvc repro practice'."));
      return;
    }
    for (const text of deck.notes) $("deck-notes").appendChild(element("li", text));
    $("deck-notes-box").hidden = deck.notes.length === 0;
    const levels = $("levels");
    for (const level of deck.levels) {
      const item = element("li");
      const button = element("button", `${level.title} (${level.faces.length})`);
      button.type = "button";
      button.dataset.level = level.name;
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", () => startRound(level.name));
      item.appendChild(button);
      levels.appendChild(item);
    }
    const answers = $("answers");
    deck.classes.forEach((emotion, i) => {
      const button = element("button");
      button.type = "button";
      button.dataset.emotion = emotion;
      button.appendChild(element("span", String(i + 1), "key")).setAttribute("aria-hidden", "true");
      button.appendChild(document.createTextNode(emotion));
      button.addEventListener("click", () => answer(emotion));
      answers.appendChild(button);
    });
    $("key-count").textContent = String(deck.classes.length);
    const focusAnswers = () => { if (!$("question").hidden) answers.querySelector("button").focus(); };
    $("next").addEventListener("click", () => { state.index += 1; showQuestion(); focusAnswers(); });
    $("again").addEventListener("click", () => { startRound(state.level); focusAnswers(); });
    $("reset").addEventListener("click", () => {
      try { localStorage.removeItem(STORE); } catch (error) { /* nothing kept */ }
      renderSaved();
      $("reset-done").textContent = "Progress cleared.";
    });
    document.addEventListener("keydown", onKey);
    renderSaved();
    const last = loadSaved().level;
    const playable = deck.levels.filter((l) => l.faces.length);
    const start = playable.find((l) => l.name === last) || playable[0] || deck.levels[0];
    if (start) startRound(start.name); else show("empty");
  }

  init();
})();
