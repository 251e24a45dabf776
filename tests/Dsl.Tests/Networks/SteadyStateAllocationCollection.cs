using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// Tests that count the process's allocated bytes: they run alone, after the parallel collections, so no other test's
/// allocations are counted.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SteadyStateAllocationCollection
{
    public const string Name = "Steady-state allocation (runs alone)";
}
