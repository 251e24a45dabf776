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
        ["LeakyRelu"] = i => Activation(i, "LeakyRelu", i.Args.Number("negativeSlope")),
        ["Elu"] = i => Activation(i, "Elu", i.Args.Number("alpha")),
        ["Gelu"] = i => Activation(i, "Gelu", 0),
        ["Conv2d"] = Conv2d,
        ["MaxPool2d"] = i => Pool(i, "MaxPool2d"),
        ["AvgPool2d"] = i => Pool(i, "AvgPool2d"),
        ["AdaptiveAvgPool2d"] = AdaptiveAvgPool2d,
        ["GlobalAvgPool2d"] = AdaptiveAvgPool2d,
        ["Dropout2d"] = Dropout2d,
        ["BatchNorm2d"] = BatchNorm2d,
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

    /// <summary>
    /// <c>nn.Conv2d</c>: [C,H,W] -> [out,OH,OW], OH = floor((H + padTop + padBottom - dilation*(k-1) - 1) / stride) + 1.
    /// https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
    /// </summary>
    private static LayerOutcome Conv2d(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return Mismatch(i, "[N,C,H,W]");
        }
        int c = i.Shape[0], h = i.Shape[1], w = i.Shape[2];
        long outChannels = i.Args.Int("outChannels"), k = i.Args.Int("kernel"), stride = i.Args.Int("stride");
        long dilation = i.Args.Int("dilation"), groups = i.Args.Int("groups");
        if (outChannels <= 0 || k <= 0 || stride <= 0 || dilation <= 0 || groups <= 0)
        {
            return Invalid(i, $"out-channels, kernel, stride, dilation and groups must be positive, got {outChannels}, {k}, {stride}, {dilation}, {groups}");
        }
        long effective = dilation * (k - 1) + 1;
        long padTop, padBottom;
        string? named = i.Args.String("padding");
        if (named is not null)
        {
            if (named == "valid")
            {
                padTop = padBottom = 0;
            }
            else if (named == "same")
            {
                if (stride != 1)
                {
                    return Invalid(i, "padding \"same\" needs stride 1, as in PyTorch");
                }
                padTop = (effective - 1) / 2;
                padBottom = effective - 1 - padTop;
            }
            else
            {
                return Invalid(i, $"padding must be a number, \"same\" or \"valid\", got \"{named}\"");
            }
        }
        else
        {
            padTop = padBottom = i.Args.Int("padding");
            if (padTop < 0)
            {
                return Invalid(i, $"padding must not be negative, got {padTop}");
            }
        }
        if (c % groups != 0 || outChannels % groups != 0)
        {
            return LayerOutcome.Error("DSL1009", i.Source, groups.ToString(CultureInfo.InvariantCulture), c.ToString(CultureInfo.InvariantCulture), outChannels.ToString(CultureInfo.InvariantCulture));
        }
        if (h + padTop + padBottom < effective || w + padTop + padBottom < effective)
        {
            return TooLarge(i, effective, effective, h + padTop + padBottom, w + padTop + padBottom, dilation > 1 ? $" (kernel {k} dilated by {dilation})" : "");
        }
        int oh = (int)((h + padTop + padBottom - effective) / stride + 1);
        int ow = (int)((w + padTop + padBottom - effective) / stride + 1);
        int fanIn = (int)(c / groups * k * k);
        var o = new LayerOutcome
        {
            Op = "Conv2d",
            Shape = ImmutableArray.Create((int)outChannels, oh, ow),
            NamePrefix = "conv",
            Flops = 2L * outChannels * oh * ow * fanIn,
        };
        bool bias = i.Args.Bool("bias");
        o.Params.Add(("weight", new[] { (int)outChannels, (int)(c / groups), (int)k, (int)k }, "uniform", fanIn));
        if (bias)
        {
            o.Params.Add(("bias", new[] { (int)outChannels }, "uniform", fanIn));
        }
        return o.With("kernel", k).With("stride", stride).With("padTop", padTop).With("padBottom", padBottom)
            .With("dilation", dilation).With("groups", groups).With("bias", bias);
    }

    /// <summary><c>nn.MaxPool2d</c> and <c>nn.AvgPool2d</c> (ceil_mode off): OH = floor((H + 2*padding - kernel) / stride) + 1.</summary>
    private static LayerOutcome Pool(LayerInput i, string op)
    {
        if (i.Shape.Length != 3)
        {
            return Mismatch(i, "[N,C,H,W]");
        }
        int h = i.Shape[1], w = i.Shape[2];
        long k = i.Args.Int("kernel");
        long stride = i.Args.Has("stride") ? i.Args.Int("stride") : k;
        long padding = i.Args.Int("padding");
        if (k <= 0 || stride <= 0 || padding < 0)
        {
            return Invalid(i, $"kernel and stride must be positive and padding not negative, got {k}, {stride}, {padding}");
        }
        if (padding * 2 > k)
        {
            return Invalid(i, $"padding {padding} must be at most half the kernel {k}, as in PyTorch");
        }
        if (h + 2 * padding < k || w + 2 * padding < k)
        {
            return TooLarge(i, k, k, h + 2 * padding, w + 2 * padding, "");
        }
        int oh = (int)((h + 2 * padding - k) / stride + 1);
        int ow = (int)((w + 2 * padding - k) / stride + 1);
        var o = new LayerOutcome { Op = op, Shape = ImmutableArray.Create(i.Shape[0], oh, ow), Flops = (long)i.Shape[0] * oh * ow * k * k }
            .With("kernel", k).With("stride", stride).With("padding", padding);
        return op == "AvgPool2d" ? o.With("countIncludePad", i.Args.Bool("countIncludePad")) : o;
    }

    /// <summary><c>nn.AdaptiveAvgPool2d</c>: [C,H,W] -> [C,OH,OW] whatever H and W; global pooling is OH = OW = 1.</summary>
    private static LayerOutcome AdaptiveAvgPool2d(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return Mismatch(i, "[N,C,H,W]");
        }
        long oh = i.Layer == "GlobalAvgPool2d" ? 1 : i.Args.Has("outputSize") ? i.Args.Int("outputSize") : i.Args.Int("outHeight");
        long ow = i.Layer == "GlobalAvgPool2d" ? 1 : i.Args.Has("outputSize") ? i.Args.Int("outputSize") : i.Args.Int("outWidth");
        if (oh <= 0 || ow <= 0)
        {
            return Invalid(i, $"the output size must be positive, got {oh}x{ow}");
        }
        return new LayerOutcome { Op = "AdaptiveAvgPool2d", Shape = ImmutableArray.Create(i.Shape[0], (int)oh, (int)ow), Flops = ShapeText.Elements(i.Shape) }
            .With("outHeight", oh).With("outWidth", ow);
    }

    /// <summary><c>nn.Dropout2d</c>: whole channels dropped, so one draw per H*W plane.</summary>
    private static LayerOutcome Dropout2d(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return Mismatch(i, "[N,C,H,W]");
        }
        double p = i.Args.Number("p");
        if (!(p >= 0 && p < 1))
        {
            return Invalid(i, $"the drop probability must lie in [0, 1), got {LayerArgs.Format(p)}");
        }
        return new LayerOutcome { Op = "Dropout", Shape = i.Shape, Flops = ShapeText.Elements(i.Shape) }
            .With("p", LayerArgs.Format(p)).With("group", i.Shape[1] * i.Shape[2]);
    }

    /// <summary><c>nn.BatchNorm2d</c>: per-channel statistics over N, H and W. Weight 1 and bias 0 to start.</summary>
    private static LayerOutcome BatchNorm2d(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return Mismatch(i, "[N,C,H,W]");
        }
        double eps = i.Args.Number("eps"), momentum = i.Args.Number("momentum");
        if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
        {
            return Invalid(i, $"eps must be positive and momentum in [0, 1], got {LayerArgs.Format(eps)} and {LayerArgs.Format(momentum)}");
        }
        int c = i.Shape[0];
        var o = new LayerOutcome { Op = "BatchNorm2d", Shape = i.Shape, NamePrefix = "bn", Flops = 4 * ShapeText.Elements(i.Shape) };
        o.Params.Add(("weight", new[] { c }, "ones", 0));
        o.Params.Add(("bias", new[] { c }, "zeros", 0));
        return o.With("eps", eps).With("momentum", momentum);
    }

    private static LayerOutcome TooLarge(LayerInput i, long kh, long kw, long paddedH, long paddedW, string note)
        => LayerOutcome.Error("DSL1006", i.Source, $"{kh}x{kw}{note}", $"{paddedH}x{paddedW}", ShapeText.Batch(i.Shape), i.From);

    private static LayerOutcome Mismatch(LayerInput i, string expected)
        => LayerOutcome.Error("DSL1001", i.Source, expected, ShapeText.Batch(i.Shape), i.From);

    private static LayerOutcome Invalid(LayerInput i, string why) => LayerOutcome.Error("DSL1002", i.Source, why);
}
