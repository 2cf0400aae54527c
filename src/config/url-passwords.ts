/**
 * The text with the password of every URL in it hidden (`smtp://user:***@host`): for a
 * setting's value in a configuration error and a driver's message in a log line. Masks
 * everything between a URL's `user:` and its `@`, commas included (a list of URLs, or a
 * password with a comma in it).
 */
export function withoutUrlPasswords(text: string): string {
  return text.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/g, '$1***@');
}
