/** Vite `?raw` imports (a file's text), used to check that docs show the code the tests run. */
declare module "*?raw" {
  const text: string;
  export default text;
}
