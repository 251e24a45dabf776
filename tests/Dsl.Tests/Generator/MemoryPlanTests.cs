using System.Text.RegularExpressions;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Generator;

/// <summary>
/// The memory planner: the slot allocator on hand-made lifetimes, the plan of every course network (no two values that
/// are alive at once share a slot), and the same property read back from the generated code itself, statement by
/// statement, so a planner and an emitter that agree on a wrong lifetime still fail.
/// </summary>
public sealed partial class MemoryPlanTests
{
    private readonly ITestOutputHelper _output;

    public MemoryPlanTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> SpecNetworks()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Networks"), "*.cs").OrderBy(f => f, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }
        return data;
    }

    // ------------------------------------------------------------------ the allocator

    [Fact]
    public void Lifetimes_that_do_not_overlap_share_a_slot_and_overlapping_ones_do_not()
    {
        var lifetimes = new[] { new Lifetime(10, 0, 1), new Lifetime(10, 1, 2), new Lifetime(10, 2, 3), new Lifetime(4, 3, 4) };
        var a = SlotAllocator.Assign(lifetimes);
        Assert.NotEqual(a.SlotOf[0], a.SlotOf[1]);
        Assert.NotEqual(a.SlotOf[1], a.SlotOf[2]);
        Assert.Equal(a.SlotOf[0], a.SlotOf[2]);
        Assert.Equal(a.SlotOf[1], a.SlotOf[3]);
        Assert.Equal(new long[] { 10, 10 }, a.SlotElements);
    }

    [Fact]
    public void A_slot_grows_to_its_largest_lifetime_and_best_fit_prefers_a_slot_that_holds_it()
    {
        var lifetimes = new[] { new Lifetime(100, 0, 1), new Lifetime(5, 0, 1), new Lifetime(5, 2, 3), new Lifetime(200, 4, 5) };
        var a = SlotAllocator.Assign(lifetimes);
        Assert.Equal(a.SlotOf[1], a.SlotOf[2]);
        Assert.Equal(a.SlotOf[0], a.SlotOf[3]);
        Assert.Equal(200, a.SlotElements[a.SlotOf[3]]);
    }

    [Fact]
    public void Without_sharing_every_lifetime_has_its_own_slot()
    {
        var lifetimes = new[] { new Lifetime(1, 0, 0), new Lifetime(2, 1, 1), new Lifetime(3, 2, 2) };
        var a = SlotAllocator.Assign(lifetimes, share: false);
        Assert.Equal(new[] { 0, 1, 2 }, a.SlotOf);
        Assert.Equal(new long[] { 1, 2, 3 }, a.SlotElements);
    }

    [Fact]
    public void A_pinned_lifetime_keeps_its_slot_and_others_avoid_it_while_it_lives()
    {
        var lifetimes = new[] { new Lifetime(8, 0, 1), new Lifetime(8, 2, 9) };
        var a = SlotAllocator.Assign(lifetimes, existing: new long[] { 8, 8 }, pinned: new Dictionary<int, int> { [1] = 0 });
        Assert.Equal(0, a.SlotOf[1]);
        Assert.Equal(0, a.SlotOf[0]);
        var b = SlotAllocator.Assign(new[] { new Lifetime(8, 0, 3), new Lifetime(8, 2, 9) }, existing: new long[] { 8, 8 }, pinned: new Dictionary<int, int> { [1] = 0 });
        Assert.Equal(1, b.SlotOf[0]);
    }

    [Fact]
    public void Malformed_lifetimes_and_bad_pins_throw()
    {
        Assert.Throws<ArgumentException>(() => SlotAllocator.Assign(new[] { new Lifetime(1, 3, 2) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SlotAllocator.Assign(new[] { new Lifetime(1, 0, 1) }, pinned: new Dictionary<int, int> { [0] = 4 }));
    }

    // ------------------------------------------------------------------ the plan of every course network

    [Theory]
    [MemberData(nameof(SpecNetworks))]
    public void No_two_values_alive_at_once_share_a_slot_in_the_plan(string network)
    {
        var plan = new Plan(Model(GeneratorHarness.SpecSource(network + ".cs")));
        var placements = plan.Memory.Placements().ToList();
        if (AllSymbolic(plan))
        {
            // Every value is sized by a symbol (CharLstm: [N,T,...] from input to logits): they live in symbolic slots.
            Assert.Empty(placements);
            return;
        }
        Assert.NotEmpty(placements);
        // Members of one group (a value and its views, a gradient and its aliases) share a lifetime: compare groups.
        var groups = placements.GroupBy(p => (p.TrainingSlot, p.Training)).Select(g => g.First()).ToList();
        foreach (var a in groups)
        {
            foreach (var b in groups.Where(b => !ReferenceEquals(a.Local, b.Local) && a.TrainingSlot == b.TrainingSlot && a.Local != b.Local))
            {
                Assert.False(a.Training.Overlaps(b.Training), $"{network}: {a.Local} {a.Training} and {b.Local} {b.Training} share slot {a.TrainingSlot} in training");
            }
        }
        var values = placements.Where(p => p.EvaluationSlot is not null).GroupBy(p => (p.EvaluationSlot, p.Evaluation)).Select(g => g.First()).ToList();
        foreach (var a in values)
        {
            foreach (var b in values.Where(b => a.EvaluationSlot == b.EvaluationSlot && a.Local != b.Local))
            {
                Assert.False(a.Evaluation!.Value.Overlaps(b.Evaluation!.Value), $"{network}: {a.Local} and {b.Local} share slot {a.EvaluationSlot} in evaluation");
            }
        }
        Assert.True(plan.Memory.TrainingBytes <= plan.Memory.UnplannedBytes, $"{network}: planned {plan.Memory.TrainingBytes} > unplanned {plan.Memory.UnplannedBytes}");
        Assert.True(plan.Memory.EvaluationBytes <= plan.Memory.TrainingBytes, $"{network}: evaluation {plan.Memory.EvaluationBytes} > training {plan.Memory.TrainingBytes}");
        _output.WriteLine($"{network}: training {plan.Memory.TrainingBytes:N0}, evaluation {plan.Memory.EvaluationBytes:N0}, unplanned {plan.Memory.UnplannedBytes:N0} bytes per sample");
    }

    [Theory]
    [MemberData(nameof(SpecNetworks))]
    public void No_two_values_alive_at_once_share_a_slot_in_the_generated_code(string network)
    {
        var result = GeneratorHarness.Run(GeneratorHarness.SpecSource(network + ".cs"));
        Assert.Empty(result.CompilationErrors);
        if (AllSymbolic(new Plan(Model(GeneratorHarness.SpecSource(network + ".cs")))))
        {
            return;
        }
        GeneratedLiveness.Check(Assert.Single(result.Generated), network);
    }

    /// <summary>True when no value of the network has a planned slot: every one is sized by a symbol.</summary>
    private static bool AllSymbolic(Plan plan) => plan.LiveNodes.All(n => n.IsSymbolic);

    [Fact]
    public void Planning_shrinks_the_training_memory_of_resnet20_and_densenet_and_evaluation_more()
    {
        foreach (var network in new[] { "ResNet20", "DenseNetBC" })
        {
            var plan = new Plan(Model(GeneratorHarness.SpecSource(network + ".cs")));
            var m = plan.Memory;
            _output.WriteLine($"{network}: training {m.TrainingBytes:N0}, evaluation {m.EvaluationBytes:N0}, unplanned {m.UnplannedBytes:N0} bytes per sample");
            Assert.True(m.TrainingBytes * 2 < m.UnplannedBytes, $"{network}: training {m.TrainingBytes} is not under half of {m.UnplannedBytes}");
            Assert.True(m.EvaluationBytes * 2 < m.TrainingBytes, $"{network}: evaluation {m.EvaluationBytes} is not under half of training {m.TrainingBytes}");
        }
    }

    [Fact]
    public void An_evaluation_forward_gives_no_slot_to_a_folded_convolution_and_runs_a_dropout_on_its_input()
    {
        // ResNet-20: every convolution folded into its batch norm is never stored by an evaluation forward, so it has no
        // slot in that plan, and removing those values lowers the evaluation memory.
        var plan = new Plan(Model(GeneratorHarness.SpecSource("ResNet20.cs")));
        var folded = plan.LiveNodes.Where(plan.Fusion.IsFolded).ToList();
        Assert.Equal(21, folded.Count);
        Assert.All(folded, conv => Assert.False(plan.Memory.StoredInEvaluation(conv)));
        var placed = plan.Memory.Placements().ToDictionary(p => p.Local);
        Assert.All(folded, conv => Assert.Null(placed[Names.Value(conv)].EvaluationSlot));
        Assert.True(plan.Memory.EvaluationBytes < plan.Memory.TrainingBytes);

        // MnistNet: both dropouts are their input in evaluation (no copy, no slot); the generated code says so.
        var mnist = new Plan(Model(GeneratorHarness.SpecSource("MnistNet.cs")));
        var dropouts = mnist.LiveNodes.Where(n => n.Op == "Dropout").ToList();
        Assert.Equal(2, dropouts.Count);
        Assert.All(dropouts, d => Assert.True(mnist.Memory.EvaluationIsInput(d)));
        var code = Assert.Single(GeneratorHarness.Run(GeneratorHarness.SpecSource("MnistNet.cs")).Generated);
        Assert.Contains("var h5_dropout2d = keep ? _h5_dropout2d.Rows(n) : h4_conv2d;", code, StringComparison.Ordinal);
        Assert.Contains("else if (keep) device.Copy(h4_conv2d, h5_dropout2d);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void The_layout_without_sharing_gives_every_value_and_gradient_its_own_slot()
    {
        var plan = new Plan(Model(GeneratorHarness.SpecSource("ResNet20.cs")));
        var unshared = new MemoryPlan(plan, share: false);
        var slots = unshared.Placements().GroupBy(p => p.TrainingSlot).ToList();
        Assert.All(slots, s => Assert.Single(s.Select(p => p.Training).Distinct()));
        Assert.Equal(unshared.UnplannedBytes, unshared.TrainingBytes + AliasBytes(unshared));
    }

    [Fact]
    public void Summary_prints_the_planned_bytes_per_sample()
    {
        var result = GeneratorHarness.Run(GeneratorHarness.SpecSource("Mlp.cs"));
        // Three lines of the generated literal, to fit 80 columns.
        Assert.Matches(@"Activation memory per sample:\\n"" \+\s+""  training [\d,]+ bytes, evaluation [\d,]+ bytes\\n"" \+\s+""  \(one buffer per value and gradient: [\d,]+ bytes\)", Assert.Single(result.Generated));
    }

    [Fact]
    public void Flatten_and_the_sum_pass_their_gradient_as_an_alias_not_a_copy()
    {
        var plan = new Plan(Model(GeneratorHarness.SpecSource("ResNet20.cs")));
        var flatten = plan.LiveNodes.Single(n => n.Op == "Flatten");
        Assert.True(plan.Memory.GradientAlias(flatten, 0));
        Assert.Contains(plan.LiveNodes.Where(n => n.Op == "Add"), add => plan.Memory.GradientAlias(add, 0) || plan.Memory.GradientAlias(add, 1));
        var code = Assert.Single(GeneratorHarness.Run(GeneratorHarness.SpecSource("ResNet20.cs")).Generated);
        Assert.Contains(".Alias(", code, StringComparison.Ordinal);
    }

    [Fact]
    public void A_backward_that_reads_a_value_its_op_does_not_keep_fails_to_emit()
    {
        // Relu's backward reads its output; fc1's value (Relu's input) is dead by then and its memory may hold a gradient.
        var model = Model(DiagnosticAssert.Usings + "[Network] public partial class R { static Net Define() => Input(4) | Linear(3) | Relu | Linear(2); }");
        var plan = new Plan(model);
        var relu = plan.LiveNodes.Single(n => n.Op == "Activation");
        var context = new BackwardContext(new CodeWriter(), plan) { Current = relu };
        Assert.Equal("h2_relu", context.Y(relu));
        var e = Assert.Throws<InvalidOperationException>(() => context.X(relu));
        Assert.Contains("BackwardReads", e.Message, StringComparison.Ordinal);
        Assert.False(plan.Memory.HeldAtBackwardOf(relu.Inputs[0], relu.Id));
    }

    /// <summary>Bytes of gradients that alias another (counted once in a plan, once each without one).</summary>
    private static long AliasBytes(MemoryPlan plan)
        => plan.Placements().Where(p => p.EvaluationSlot is null).GroupBy(p => p.TrainingSlot).Sum(g => (g.Count() - 1) * g.First().Training.Elements * MemoryPlan.ElementBytes);

    private static NetworkModel Model(string source)
    {
        var compilation = GeneratorHarness.Compilation(source);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var step = driver.GetRunResult().Results[0].TrackedSteps[global::Dsl.Generator.NetworkGenerator.Steps.Build];
        var value = step[0].Outputs[0].Value;
        return value as NetworkModel ?? (NetworkModel)value.GetType().GetField("Item1")!.GetValue(value)!;
    }
}
