using Dsl.Tests.Gradients;
using Dsl.Visualization;
using Xunit;
using static Dsl.Tests.Visualization.PictureAssert;

namespace Dsl.Tests.Visualization;

/// <summary>
/// Each picture's size and content: filter tiles are the weights, feature-map tiles the probed values, the occlusion map and
/// the saliency of a network that only looks at the top half are zero on the bottom half, and the top-k images come in the
/// order of their activations computed by a network cut at the layer.
/// </summary>
public sealed class PictureTests
{
    [Fact]
    public void Filter_grid_tiles_are_the_weights_one_tile_per_output_and_input_channel()
    {
        var net = new RgbNet(Device.Cpu, 2);
        var convolutions = Filters.ConvolutionWeights(net);
        Assert.Equal(new[] { "conv1.weight", "conv2.weight" }, convolutions.Select(p => p.Name));

        // conv2 [2,4,3,3]: a grey tile per (out, in), a row per output channel.
        var w = convolutions[1].Value.ToArray();
        var picture = Filters.Write(convolutions[1].Value, TempPng("conv2.png"), scale: 6);
        Assert.Equal(8, picture.Tiles.Count);
        Assert.Equal(4 + 4 * (18 + 4), picture.Width);
        Assert.Equal(4 + 2 * (18 + 4), picture.Height);
        using var bitmap = Decode(picture);
        for (int tile = 0; tile < 8; tile++)
        {
            var values = w.Skip(tile * 9).Take(9).ToArray();
            for (int i = 0; i < 9; i++)
            {
                var colour = At(bitmap, picture, tile, i % 3, i / 3);
                Near(Grey(values[i], values.Min(), values.Max()), colour.Red, $"tile {tile} value {i}");
                Assert.Equal(colour.Red, colour.Green);
            }
        }
        // Tile 5 is output channel 1, input channel 1: second row, second column.
        Assert.Equal(picture.Tiles[4].Y, picture.Tiles[5].Y);
        Assert.True(picture.Tiles[5].Y > picture.Tiles[0].Y);
    }

    [Fact]
    public void Filter_grid_of_an_rgb_convolution_shows_one_colour_tile_per_output_channel()
    {
        var net = new RgbNet(Device.Cpu, 3);
        var weight = net.Parameters.First(p => p.Name == "conv1.weight").Value;
        var w = weight.ToArray();
        var picture = Filters.Write(weight, TempPng("conv1.png"), "conv1", scale: 5);
        Assert.Equal(4, picture.Tiles.Count);
        using var bitmap = Decode(picture);
        for (int o = 0; o < 4; o++)
        {
            var values = w.Skip(o * 27).Take(27).ToArray();
            for (int i = 0; i < 9; i++)
            {
                var colour = At(bitmap, picture, o, i % 3, i / 3);
                Near(Grey(values[i], values.Min(), values.Max()), colour.Red, "red");
                Near(Grey(values[9 + i], values.Min(), values.Max()), colour.Green, "green");
                Near(Grey(values[18 + i], values.Min(), values.Max()), colour.Blue, "blue");
            }
        }
    }

    [Fact]
    public void Feature_maps_are_the_probed_layers_channels_of_the_chosen_image()
    {
        var net = new ProbeNet(Device.Cpu, 5);
        net.Eval();
        var x = Tensor.From(RandomInputs.Normal(new Random(4), 3 * 64), Device.Cpu, 3, 1, 8, 8);
        using var probe = net.Probe("conv1");
        net.Forward(x);
        var maps = probe["conv1"].ToArray();
        var picture = FeatureMaps.Write(probe["conv1"], 2, TempPng("maps.png"), "conv1", scale: 4);
        Assert.Equal(3, picture.Tiles.Count);
        Assert.Equal(4 + 3 * (24 + 4), picture.Width);
        Assert.Equal(22 + 4 + 24 + 16 + 4, picture.Height);    // title, tiles with captions
        using var bitmap = Decode(picture);
        for (int c = 0; c < 3; c++)
        {
            var values = maps.Skip((2 * 3 + c) * 36).Take(36).ToArray();
            for (int i = 0; i < 36; i++)
            {
                Near(Grey(values[i], values.Min(), values.Max()), At(bitmap, picture, c, i % 6, i / 6).Red, $"channel {c} value {i}");
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureMaps.Tiles(probe["conv1"], 3));
    }

    /// <summary>A <see cref="HalfNet"/> whose first layer reads only the top four rows of the 8x8 image.</summary>
    private static HalfNet TopHalfOnly(int seed)
    {
        var net = new HalfNet(Device.Cpu, seed);
        var fc1 = net.Parameters.First(p => p.Name == "fc1.weight");
        var w = fc1.Value.ToArray();
        for (int j = 0; j < 6; j++)
        {
            Array.Clear(w, j * 64 + 32, 32);
        }
        fc1.Load(w);
        return net;
    }

    [Fact]
    public void Occlusion_map_of_a_network_that_looks_at_the_top_half_is_zero_on_the_bottom_half()
    {
        var net = TopHalfOnly(3);
        var image = Tensor.From(RandomInputs.Uniform(new Random(2), 64, 0, 1), Device.Cpu, 1, 8, 8);
        var map = Occlusion.Compute(net, image, label: 1, patch: 2, stride: 2);
        Assert.Equal((4, 4), (map.Rows, map.Columns));
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                float drop = map.Drops[r * 4 + c];
                if (r >= 2)
                {
                    Assert.True(Math.Abs(drop) < 1e-6, $"patch at row {r * 2}: drop {drop}");
                }
            }
        }
        Assert.True(map.Drops.Take(8).Max(Math.Abs) > 1e-3, "covering the top half changes the prediction");
        Assert.True(net.IsTraining);                                                 // the mode is restored

        var picture = Occlusion.Write(map, image, TempPng("occlusion.png"), scale: 8);
        Assert.Equal(4 + 2 * (64 + 4), picture.Width);
        Assert.Equal(22 + 4 + 64 + 16 + 4, picture.Height);
        using var bitmap = Decode(picture);
        var pixels = map.PixelMap();
        float lo = pixels.Min(), hi = pixels.Max();
        var zero = ImageGrid.HeatColour(Grey(0f, lo, hi) / 255.0);
        for (int y = 4; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                var colour = At(bitmap, picture, 1, x, y);
                Assert.True(Math.Abs(colour.Red - zero.R) <= 2 && Math.Abs(colour.Green - zero.G) <= 2 && Math.Abs(colour.Blue - zero.B) <= 2,
                    $"pixel ({x},{y}) shows {colour}, not the colour of 0");
            }
        }
    }

    [Fact]
    public void Saliency_of_a_network_that_looks_at_the_top_half_is_zero_on_the_bottom_half_under_every_rule()
    {
        var net = TopHalfOnly(4);
        var image = Tensor.From(RandomInputs.Uniform(new Random(5), 64, 0, 1), Device.Cpu, 1, 8, 8);
        // Every rule's picture is zero on the bottom half for every class, and not zero on the top half for some class
        // (a guided pass may stop at the ReLU for one class: it passes only positive gradients of active units).
        var all = Enumerable.Range(0, 3).Select(t => Saliency.Compute(net, image, t)).ToList();
        foreach (var (name, pick) in new (string, Func<SaliencyMaps, float[]>)[] { ("gradient", m => m.Gradient), ("deconvnet", m => m.DeconvNet), ("guided", m => m.Guided) })
        {
            Assert.All(all, m => Assert.All(pick(m).Skip(32), v => Assert.Equal(0f, v)));
            Assert.True(all.Max(m => pick(m).Take(32).Max(Math.Abs)) > 0, $"{name} is zero on the top half too");
        }
        var maps = all.First(m => m.Guided.Take(32).Any(v => v != 0));
        var magnitude = Saliency.Magnitude(maps.Gradient, 1, 8, 8);
        Assert.Equal(maps.Gradient.Select(Math.Abs), magnitude);
        var picture = Saliency.Write(maps, image, TempPng("saliency.png"), scale: 4);
        Assert.Equal(4, picture.Tiles.Count);
        Assert.Equal(4 + 4 * (32 + 4), picture.Width);
        using var bitmap = Decode(picture);
        // The guided tile, grey over its own range: its bottom half shows 0's level.
        float lo = maps.Guided.Min(), hi = maps.Guided.Max();
        Near(Grey(0f, lo, hi), At(bitmap, picture, 3, 3, 6).Red, "guided at (3,6)");
    }

    [Fact]
    public void Plain_saliency_matches_finite_differences_of_the_score()
    {
        var net = new ReluMlp(Device.Cpu, 6);
        var w1 = RandomInputs.ToDoubles(net.Parameters[0].Value.ToArray());
        var b1 = RandomInputs.ToDoubles(net.Parameters[1].Value.ToArray());
        var w2 = RandomInputs.ToDoubles(net.Parameters[2].Value.ToArray());
        var b2 = RandomInputs.ToDoubles(net.Parameters[3].Value.ToArray());
        var x = RandomInputs.Normal(new Random(8), 6);
        const int target = 3;
        double Score(double[] v)
        {
            double s = b2[target];
            for (int j = 0; j < 7; j++)
            {
                double a = b1[j];
                for (int i = 0; i < 6; i++)
                {
                    a += w1[j * 6 + i] * v[i];
                }
                s += w2[target * 7 + j] * Math.Max(a, 0);
            }
            return s;
        }
        var expected = FiniteDifference.Gradient(Score, RandomInputs.ToDoubles(x));
        var got = Saliency.InputGradient(net, Tensor.From(x, Device.Cpu, 1, 2, 3), target);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i], got[i], 5);
        }
    }

    [Fact]
    public void Top_k_images_come_in_the_order_of_their_mean_activation()
    {
        var net = new ProbeNet(Device.Cpu, 7);
        var cut = new ProbeNetToConv2(Device.Cpu, 0);
        for (int i = 0; i < cut.Parameters.Count; i++)
        {
            cut.Parameters[i].Load(net.Parameters[i].Value);
        }
        cut.Eval();
        const int m = 23;
        var images = Tensor.From(RandomInputs.Normal(new Random(6), m * 64), Device.Cpu, m, 1, 8, 8);
        var conv2 = cut.Forward(images).ToArray();                // [m,4,2,2]
        var means = Enumerable.Range(0, m).Select(i => conv2.Skip(i * 16 + 1 * 4).Take(4).Average()).ToArray();
        var order = Enumerable.Range(0, m).OrderByDescending(i => means[i]).Take(5).ToArray();

        var top = TopActivations.ByChannel(net, "conv2", images, channel: 1, k: 5, batch: 7);
        Assert.Equal(order, top.Select(t => t.Index));
        for (int k = 0; k < 5; k++)
        {
            Assert.Equal(means[order[k]], top[k].Score, 5);
        }

        var byUnit = TopActivations.ByUnit(net, "4", images, unit: 6, k: 3);
        Assert.Equal(Enumerable.Range(0, m).OrderByDescending(i => conv2[i * 16 + 6]).Take(3), byUnit.Select(t => t.Index));

        var picture = TopActivations.Write(top, images, TempPng("top.png"), "conv2 channel 1", scale: 3);
        Assert.Equal(5, picture.Tiles.Count);
        Assert.Equal(4 + 5 * (24 + 4), picture.Width);
        using var bitmap = Decode(picture);
        // The first tile is the best image itself.
        var best = images[order[0]].ToArray();
        for (int i = 0; i < 64; i += 9)
        {
            Near(Grey(best[i], best.Min(), best.Max()), At(bitmap, picture, 0, i % 8, i / 8).Red, $"pixel {i}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => TopActivations.ByChannel(net, "conv2", images, channel: 4, k: 1));
    }
}
