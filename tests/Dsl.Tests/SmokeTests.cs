using Xunit;

namespace Dsl.Tests;

public class SmokeTests
{
    [Fact]
    public void Tensor_round_trips_through_the_cpu()
    {
        var t = Tensor.From(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(new float[] { 4, 5, 6 }, t[1].ToArray());
    }
}

public class GeneratedInTestsSmokeTests
{
    [Fact]
    public void A_network_declared_in_the_test_project_is_generated()
        => Assert.Contains("fc3: Linear(3)", Networks.TinyMlp.Summary);
}
