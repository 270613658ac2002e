// The benches run jai as their own unprivileged user (test/helpers/fixture.ts reads JAI_TEST_USER when it is
// loaded), so that they can run beside the test suites. Import this first.
process.env['JAI_TEST_USER'] ??= 'jaiperf';
