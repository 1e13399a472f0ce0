// Entry point: the section tabs, the API key form, then the chat playground and the operations dashboard.

import { apiKey, setApiKey } from "./api.js";
import { initChat } from "./chat.js";
import { initDashboard, setDashboardVisible } from "./dashboard.js";
import { selectTab, wireTablist } from "./tabs.js";

const $ = (id) => document.getElementById(id);

function showSection(tab) {
  for (const candidate of document.querySelectorAll('#sections [role="tab"]')) {
    $(candidate.getAttribute("aria-controls")).hidden = candidate !== tab;
  }
  setDashboardVisible(tab.id === "tab-dashboard");
  const hash = tab.id === "tab-dashboard" ? "#operations" : "#chat";
  if (window.location.hash !== hash) {
    history.replaceState(null, "", hash);
  }
}

function showKeyStatus() {
  $("key-status").textContent = apiKey() ? "Key set for this tab." : "No key: anonymous.";
}

function init() {
  wireTablist($("sections"), showSection);
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    setApiKey(key);
    $("api-key").value = "";
    showKeyStatus();
  });
  $("key-forget").addEventListener("click", () => {
    setApiKey("");
    $("api-key").value = "";
    showKeyStatus();
  });
  showKeyStatus();
  initChat();
  initDashboard();
  const start = window.location.hash === "#operations" ? $("tab-dashboard") : $("tab-chat");
  selectTab(start);
  showSection(start);
  document.body.dataset.ready = "true";
}

init();
