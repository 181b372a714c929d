// Progressive enhancement only: every page works without this file.
// With scripts on, buttons that only submit a form whose fields submit themselves (htmx) are hidden.
document.documentElement.classList.add("js");
