// The concurrency bench's first user (the fixture's); the others are jaibench2, jaibench3… Import this first.
process.env['JAI_TEST_USER'] ??= 'jaibench1';
