"""`Roles`: which problem plays which part in the paper's tables."""

from t2t_multimodel.errors import T2TError, did_you_mean

# The offline stand-ins of the paper's eight problems (problems/mixtures.py).
DEFAULT_JOINT = "multimodel_paper_offline_uniform"
DEFAULT_PARSING = "parsing_english_silver"
DEFAULT_IMAGE = "image_fashion_mnist"
DEFAULT_LANGUAGE = ("translate_ende_offline", "translate_deen_offline",
                    "translate_enfr_offline", "translate_fren_offline")


class Roles:
    """The problems of the paper's experiments, by the part each plays.

    The defaults are the offline stand-ins of the paper's eight problems;
    tests and users with other data pass their own names.

    Args:
        joint: str. The joint mixture: a registered mixture name or
            `"a,b,c"` (uniform). The paper sampled its eight problems
            uniformly: `multimodel_paper_offline_uniform`.
        parsing: str. The data-poor problem of Tables 2 and 3 (WSJ parsing
            in the paper). Must be one of the joint problems.
        image: str. The image problem that Table 3 adds to parsing
            (ImageNet in the paper) and that Table 4's "attention matters
            most for language" compares with. One of the joint problems.
        language: list of str. The language problems of Table 4's claim
            (WMT translation in the paper). Each one of the joint problems.

    Example:

    ```python
    roles = Roles(joint="algorithmic_reverse_binary40_test,image_digits",
                  parsing="algorithmic_reverse_binary40_test", image="image_digits",
                  language=["algorithmic_reverse_binary40_test"])
    roles.joint_problems  # ["algorithmic_reverse_binary40_test", "image_digits"]
    ```

    References:
        - Kaiser et al. 2017, "One Model To Learn Them All", Tables 2-4.
    """

    def __init__(self, joint=DEFAULT_JOINT, parsing=DEFAULT_PARSING, image=DEFAULT_IMAGE,
                 language=DEFAULT_LANGUAGE):
        from t2t_multimodel import mixture

        self.joint = str(joint)
        self.mixture = mixture.resolve(self.joint)
        self.joint_problems = list(self.mixture.problems)
        self.parsing = parsing
        self.image = image
        self.language = [n.strip() for n in (language.split(",") if isinstance(language, str)
                                              else language) if n.strip()]
        if not self.language:
            raise T2TError(f"name at least one language problem. Received: language={language!r}")
        named = {"parsing_problem": [parsing], "image_problem": [image],
                 "language_problems": self.language}
        for flag, names in named.items():
            for name in names:
                if name not in self.joint_problems:
                    hint = did_you_mean(name, self.joint_problems, n=1)
                    raise T2TError(
                        f"the {flag} {name} is not one of the joint problems "
                        f"{','.join(self.joint_problems)}: {hint}pick one of them or change "
                        f"--joint_problems. Received: {flag}={name}")
        if parsing == image:
            raise T2TError(f"the parsing and image problems must differ. "
                           f"Received: parsing_problem={parsing}, image_problem={image}")

    @property
    def data_rich(self):
        """The joint problems other than the data-poor parsing problem."""
        return [p for p in self.joint_problems if p != self.parsing]

    def to_dict(self):
        return {"joint": self.joint, "joint_problems": self.joint_problems,
                "schedule": self.mixture.schedule, "parsing": self.parsing,
                "image": self.image, "language": self.language}
