namespace Dsl;

public abstract partial class Module
{
    /// <summary>
    /// Refuses a batch whose symbolic length is too short for a 1-D window (<c>Conv1d(100, kernel: 5)</c> on T = 3): generated
    /// <c>Forward</c> calls it before sizing the layer's output, naming the network, the layer, the dimension as an expression
    /// of the symbols (<c>T</c>, <c>(T-2)/2+1</c>), its size for this batch and the least the window needs.
    /// </summary>
    protected void CheckWindow(int length, int minimum, string layer, string dimension)
    {
        if (length < minimum)
        {
            throw new ArgumentException($"{NetworkName}.Forward: {layer} needs a length of at least {minimum} along {dimension}, but it is {length} in this batch; pad the batch or use a smaller window.");
        }
    }
}
