// Integration tests drive real llama.cpp contexts that use every core; running test classes in
// parallel on a 2-core machine would only make them slower and their timing-based waits flakier.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
