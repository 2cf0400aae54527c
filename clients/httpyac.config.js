// httpyac reads this file (the nearest httpyac.config.js) when it runs walkthrough.http,
// from the command line in the tests or from its VS Code extension. It teaches httpyac
// two things of walkthrough.http that VS Code's REST Client and JetBrains' HTTP client
// read natively or ignore, so that one file serves them all:
//
// - REST Client's references to a named answer, `{{login.response.body.access_token}}`
//   (or `$.access_token`, or `{{login.response.headers.Location}}`); httpyac itself
//   writes `{{login.access_token}}`.
// - Assertions written as comments, `# ?? status == 201`: httpyac's own `?? status == 201`
//   lines would be sent as part of the request body by the other two clients, which drop
//   every comment line instead.

const namedAnswer = /\{\{\s*([A-Za-z_]\w*)\.response\.(body|headers)\.(?:\$\.)?([^}\s]+)\s*\}\}/gu;
const commentedAssertion = /^\s*(?:#|\/\/)\s*(\?\?.*)$/u;

/** The value at a REST Client JSONPath such as `owner.id` or `items[0].id`. */
function valueAt(body, path) {
  return path
    .split(/\.|\[(\d+)\]/u)
    .filter((key) => key !== undefined && key !== '')
    .reduce((node, key) => (node === undefined || node === null ? undefined : node[key]), body);
}

function resolveNamedAnswers(text, variables) {
  return text.replace(namedAnswer, (reference, name, part, path) => {
    const response = variables[`${name}Response`];
    if (!response) {
      return reference;
    }
    const value =
      part === 'headers'
        ? response.headers?.[path.toLowerCase()]
        : valueAt(response.parsedBody ?? JSON.parse(response.body), path);
    if (value === undefined) {
      return reference;
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

module.exports = {
  configureHooks(api) {
    api.hooks.replaceVariable.addHook(
      'restClientNamedAnswers',
      (text, _type, { variables }) => (typeof text === 'string' ? resolveNamedAnswers(text, variables) : text),
      { before: ['host', 'name', 'javascript', 'restClientDynamic', 'intellijDynamic'] },
    );

    const assertion = api.hooks.parse.items.find((item) => item.id === 'assert');
    if (!assertion) {
      throw new Error('httpyac no longer has the "assert" parser that clients/httpyac.config.js relies on');
    }
    api.hooks.parse.addHook(
      'commentedAssertion',
      (getLines, context) => {
        const next = getLines().next();
        const match = next.done ? null : commentedAssertion.exec(next.value.textLine);
        if (!match) {
          return false;
        }
        const uncommented = { line: next.value.line, textLine: match[1] };
        return assertion.action(() => [uncommented][Symbol.iterator](), context);
      },
      { before: ['meta', 'comment'] },
    );
  },
};
