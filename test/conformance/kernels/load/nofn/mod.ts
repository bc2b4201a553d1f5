// A kernel that declares a function it does not provide (for load-error tests).
export default { apiVersion: 1, create: () => ({ functions: {} }) };
