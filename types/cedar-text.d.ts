// Cedar policy and schema files imported as text (esbuild's text loader): only bench/policy-in-function.ts does, to
// measure the alternative of deciding inside the function.
declare module '*.cedar' {
  const text: string;
  export default text;
}
declare module '*.cedarschema' {
  const text: string;
  export default text;
}
