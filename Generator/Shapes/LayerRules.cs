using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Model;

namespace Dsl.Generator.Shapes;

/// <summary>What a shape rule receives: the call as written, its constant arguments and the incoming value.</summary>
internal sealed record LayerInput(string Layer, string Source, LayerArgs Args, ImmutableArray<int> Shape, string From);

/// <summary>
/// What a rule returns: the operation with its output shape, parameter shapes, attributes and FLOPs per sample,
/// or an error (descriptor id and message arguments) when the layer cannot take the incoming shape.
/// </summary>
internal sealed class LayerOutcome
{
    public string Op = "";
    public ImmutableArray<int> Shape = ImmutableArray<int>.Empty;
    public List<(string Suffix, int[] Shape, string Init, int FanIn)> Params = new();
    public List<Attr> Attrs = new();
    public long Flops;
    /// <summary>The prefix of default names for layers with parameters (fc, conv, bn); null when it has none.</summary>
    public string? NamePrefix;
    public string? ErrorId;
    public string[] ErrorArgs = Array.Empty<string>();

    public static LayerOutcome Error(string id, params string[] args) => new() { ErrorId = id, ErrorArgs = args };

    public LayerOutcome With(string key, object value)
    {
        string text = value switch
        {
            bool b => b ? "true" : "false",
            double d => LayerArgs.Format(d),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        };
        Attrs.Add(new Attr(key, text));
        return this;
    }
}

/// <summary>
/// One shape rule per layer kind, in one place: each returns the output shape, the parameters with their
/// PyTorch layouts and initialisers, and the forward FLOPs per sample, or an exact error.
/// </summary>
internal static class LayerRules
{
    private delegate LayerOutcome Rule(LayerInput input);

    private static readonly Dictionary<string, Rule> Rules = new()
    {
        ["Linear"] = Linear,
        ["Relu"] = i => Activation(i, "Relu", 0),
        ["Tanh"] = i => Activation(i, "Tanh", 0),
        ["Sigmoid"] = i => Activation(i, "Sigmoid", 0),
        ["Dropout"] = Dropout,
        ["Flatten"] = Flatten,
        ["Softmax"] = i => Softmax(i, log: false),
        ["LogSoftmax"] = i => Softmax(i, log: true),
    };

    public static bool IsKnown(string layer) => Rules.ContainsKey(layer);

    public static LayerOutcome Apply(LayerInput input) => Rules[input.Layer](input);

    private static LayerOutcome Linear(LayerInput i)
    {
        long outFeatures = i.Args.Int("outFeatures");
        if (outFeatures <= 0)
        {
            return Invalid(i, $"out-features must be positive, got {outFeatures}");
        }
        if (i.Shape.Length < 1)
        {
            return Mismatch(i, "[N,...,in]");
        }
        int inFeatures = i.Shape[i.Shape.Length - 1];
        if (i.Args.Has("inFeatures"))
        {
            long declared = i.Args.Int("inFeatures");
            if (declared <= 0)
            {
                return Invalid(i, $"in-features must be positive, got {declared}");
            }
            if (declared != inFeatures)
            {
                var expected = i.Shape.SetItem(i.Shape.Length - 1, (int)declared);
                return Mismatch(i, ShapeText.Batch(expected));
            }
        }
        bool bias = i.Args.Bool("bias");
        var o = new LayerOutcome
        {
            Op = "Linear",
            Shape = i.Shape.SetItem(i.Shape.Length - 1, (int)outFeatures),
            NamePrefix = "fc",
            Flops = 2L * inFeatures * outFeatures * (ShapeText.Elements(i.Shape) / Math.Max(1, inFeatures)),
        };
        o.Params.Add(("weight", new[] { (int)outFeatures, inFeatures }, "uniform", inFeatures));
        if (bias)
        {
            o.Params.Add(("bias", new[] { (int)outFeatures }, "uniform", inFeatures));
        }
        return o.With("in", inFeatures).With("out", outFeatures).With("bias", bias);
    }

    private static LayerOutcome Activation(LayerInput i, string kind, double alpha)
        => new LayerOutcome { Op = "Activation", Shape = i.Shape, Flops = ShapeText.Elements(i.Shape) }
            .With("kind", kind).With("alpha", LayerArgs.Format(alpha));

    private static LayerOutcome Dropout(LayerInput i)
    {
        double p = i.Args.Number("p");
        if (!(p >= 0 && p < 1))
        {
            return Invalid(i, $"the drop probability must lie in [0, 1), got {LayerArgs.Format(p)}");
        }
        return new LayerOutcome { Op = "Dropout", Shape = i.Shape, Flops = ShapeText.Elements(i.Shape) }
            .With("p", LayerArgs.Format(p)).With("group", 1);
    }

    private static LayerOutcome Flatten(LayerInput i)
    {
        if (i.Shape.Length < 1)
        {
            return Mismatch(i, "[N,...]");
        }
        return new LayerOutcome { Op = "Flatten", Shape = ImmutableArray.Create((int)ShapeText.Elements(i.Shape)) };
    }

    private static LayerOutcome Softmax(LayerInput i, bool log)
    {
        if (i.Shape.Length < 1)
        {
            return Mismatch(i, "[N,...,C]");
        }
        return new LayerOutcome { Op = "Softmax", Shape = i.Shape, Flops = 3 * ShapeText.Elements(i.Shape) }.With("log", log);
    }

    private static LayerOutcome Mismatch(LayerInput i, string expected)
        => LayerOutcome.Error("DSL1001", i.Source, expected, ShapeText.Batch(i.Shape), i.From);

    private static LayerOutcome Invalid(LayerInput i, string why) => LayerOutcome.Error("DSL1002", i.Source, why);
}
