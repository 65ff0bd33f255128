"""A --t2t_usr_dir for the t2t-experiments tests (its workers import it by the flag)."""

from t2t_multimodel import registry, text_problems


@registry.register_problem("experiments_test_count_ones")
class CountOnes(text_problems.Text2ClassProblem):
    """How many ones has a 7-bit string? Every string once; a quarter held out.

    10 classes, as many as the digits: the two problems then share one
    class-label net (two class-label nets in one MultiModel collide on their
    checkpoint paths, `top_conv/depthwise_kernel`).
    """

    is_generate_per_split = True
    vocab_type = text_problems.VocabType.CHARACTER
    num_classes = 10

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        for n in range(128):
            bits = format(n, "07b")
            if (n % 4 == 0) == (dataset_split != "train"):
                yield {"inputs": " ".join(bits), "label": bits.count("1")}
