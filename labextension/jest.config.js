// jest for the sidebar's models and its pure views (@testing-library/react): ts-jest with
// CommonJS output; the request module is mocked
// in each test, so no @jupyterlab/* ES module is loaded.
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.spec.tsx'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  }
};
