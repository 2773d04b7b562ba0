// The page's translated texts, read from data-text-* attributes of the modeler's root element
// (the server renders them in the reader's language). Placeholders are written {name}.

export function texts(root) {
  return function say(key, values) {
    const attribute = "text" + key.charAt(0).toUpperCase() + key.slice(1);
    let text = root.dataset[attribute] || key;
    Object.entries(values || {}).forEach(([name, value]) => {
      text = text.split(`{${name}}`).join(String(value));
    });
    return text;
  };
}
