// WAI-ARIA tabs: click or Enter/Space selects; Left/Right/Home/End move between tabs (roving tabindex).

export function selectTab(tab) {
  const list = tab.closest('[role="tablist"]');
  for (const other of list.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
  }
}

/** Wires a tablist; onSelect(tab) runs after a tab is selected. */
export function wireTablist(list, onSelect) {
  const tabs = () => [...list.querySelectorAll('[role="tab"]')];
  list.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) {
      selectTab(tab);
      onSelect(tab);
    }
  });
  list.addEventListener("keydown", (event) => {
    const all = tabs();
    const index = all.indexOf(document.activeElement);
    if (index < 0) {
      return;
    }
    const next = {
      ArrowRight: (index + 1) % all.length,
      ArrowLeft: (index - 1 + all.length) % all.length,
      Home: 0,
      End: all.length - 1,
    }[event.key];
    if (next !== undefined) {
      event.preventDefault();
      all[next].focus();
      selectTab(all[next]);
      onSelect(all[next]);
    }
  });
}
