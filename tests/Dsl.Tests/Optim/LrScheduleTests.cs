using Xunit;

namespace Dsl.Tests.Optim;

/// <summary>Learning-rate schedules against PyTorch's closed forms (CosineAnnealingLR, StepLR), epoch by epoch.</summary>
public class LrScheduleTests
{
    private static Sgd Optimizer(float lr) => new(new[] { new Parameter("w", Tensor.From(new float[] { 1f, 2f }, 2)) }, lr);

    [Fact]
    public void Cosine_annealing_follows_the_closed_form_and_ends_at_the_minimum()
    {
        var opt = Optimizer(0.1f);
        var schedule = new CosineAnnealingLr(opt, epochs: 4, minRate: 0.001f);
        // PyTorch: eta_t = eta_min + (eta_0 - eta_min) * (1 + cos(pi * t / T_max)) / 2
        Assert.Equal(0.1f, opt.LearningRate, 6);
        for (int epoch = 1; epoch <= 4; epoch++)
        {
            schedule.Step();
            double t = epoch / 4.0;
            double closed = 0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * t)) / 2;
            Assert.Equal(closed, opt.LearningRate, 5);
        }
        Assert.Equal(0.001f, opt.LearningRate, 6);
    }

    [Fact]
    public void Step_schedule_multiplies_by_gamma_every_step_size_epochs()
    {
        var opt = Optimizer(1f);
        var schedule = new StepLr(opt, stepSize: 2, gamma: 0.5f);
        var rates = new List<float>();
        for (int epoch = 0; epoch < 6; epoch++)
        {
            rates.Add(opt.LearningRate);
            schedule.Step();
        }
        Assert.Equal(new[] { 1f, 1f, 0.5f, 0.5f, 0.25f, 0.25f }, rates);
    }
}
