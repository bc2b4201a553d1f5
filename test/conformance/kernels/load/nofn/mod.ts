// A kernel that declares a function it does not provide (for load-error tests).
export default () => ({ functions: {} });
