using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class LanguageModelBatcherTests
{
    private static int[] Stream(int length) => Enumerable.Range(0, length).Select(i => 7 + i).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Targets_are_the_next_tokens_and_rows_continue_across_windows(bool randomOffset)
    {
        int[] stream = Stream(1000);
        var batcher = new LanguageModelBatcher(stream, Device.Cpu, rows: 4, length: 10, seed: 3, randomOffset: randomOffset);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            int offset = batcher.Offset(epoch);
            Assert.InRange(offset, 0, randomOffset ? 9 : 0);
            int rowLength = (1000 - 1 - offset) / 4;
            Assert.Equal(rowLength / 10, batcher.WindowCount(epoch));
            var windows = batcher.Epoch(epoch).Select(b => (b.Index, Input: b.Input.ToInt64Array(), Target: b.Target.ToInt64Array())).ToList();
            Assert.Equal(batcher.WindowCount(epoch), windows.Count);
            foreach (var (w, input, target) in windows)
            {
                for (int r = 0; r < 4; r++)
                {
                    for (int j = 0; j < 10; j++)
                    {
                        int position = offset + r * rowLength + w * 10 + j;
                        Assert.Equal(position, batcher.Position(epoch, w, r, j));
                        Assert.Equal(stream[position], input[r * 10 + j]);
                        Assert.Equal(stream[position + 1], target[r * 10 + j]);
                    }
                }
            }
        }
        if (randomOffset)
        {
            Assert.Contains(Enumerable.Range(0, 20), e => batcher.Offset(e) != batcher.Offset(0));
        }
    }

    [Fact]
    public void Windows_have_the_fixed_shape()
    {
        var batcher = new LanguageModelBatcher(Stream(500), Device.Cpu, rows: 3, length: 8);
        Assert.All(batcher.Epoch(0), b =>
        {
            Assert.Equal([3, 8], b.Input.Shape);
            Assert.Equal([3, 8], b.Target.Shape);
            Assert.Equal(DType.Int64, b.Input.DType);
        });
    }

    [Fact]
    public void A_stream_too_short_for_one_window_per_row_is_refused()
    {
        Assert.Contains("too short", Assert.Throws<ArgumentException>(() => new LanguageModelBatcher(Stream(40), Device.Cpu, rows: 4, length: 10, randomOffset: false)).Message);
        _ = new LanguageModelBatcher(Stream(41), Device.Cpu, rows: 4, length: 10, randomOffset: false);
        Assert.Throws<ArgumentException>(() => new LanguageModelBatcher(Stream(41), Device.Cpu, rows: 4, length: 10, randomOffset: true));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Steady_state_windows_allocate_only_their_handles(bool publish)
    {
        var batcher = new LanguageModelBatcher(Stream(200_000), Device.Cpu, rows: 32, length: 64);
        using var windows = batcher.Epoch(1, publish).GetEnumerator();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(windows.MoveNext());
        }
        long allocated = Dsl.Tests.Networks.StepAllocations.FewestInRounds(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                Assert.True(windows.MoveNext());
            }
        });
        // Per published window exactly its two fresh handles (input, target); on the trainer's path nothing.
        long expected = publish ? 20 * 2 * Dsl.Tests.Networks.StepAllocations.HandleBytes : 0;
        Assert.True(allocated == expected, $"20 windows (publish: {publish}) allocated {allocated} bytes, expected {expected}.");
    }
}
