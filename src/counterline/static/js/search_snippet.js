// A search result's highlighted snippet. Server contract (GET /api/v1/search): snippet_html is
// the message's text, HTML-escaped, with the matched words wrapped in <mark>…</mark> and
// nothing else. It is still parsed inertly (a <template> runs no script and loads nothing) and
// rebuilt from text and MARK nodes only, so a server mistake cannot put markup on the page.

/** The snippet as nodes to append: text, and <mark> elements holding text only. */
export function snippetNodes(snippetHtml) {
  const template = document.createElement("template");
  template.innerHTML = snippetHtml || "";
  const nodes = [];
  for (const node of template.content.childNodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      nodes.push(mark);
    } else if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.ELEMENT_NODE) {
      nodes.push(document.createTextNode(node.textContent));
    }
  }
  return nodes;
}
